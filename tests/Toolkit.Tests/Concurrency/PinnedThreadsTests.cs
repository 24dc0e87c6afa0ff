using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;
using TransferKit.Toolkit.Tests.Kernels;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Tests.Concurrency;

/// <summary>
/// A plan's pass keeps the thread count it started with when the setting rises meanwhile (another job in the process
/// setting its own), so no kernel finds a workspace sized for fewer threads than it reads; the new setting holds from
/// the next pass on.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public class PinnedThreadsTests
{
    [Fact]
    public void ARiseOfTheSettingWaitsForTheNextCallAndAFallHoldsAtOnce()
    {
        int saved = Workers.MaxThreads;
        try
        {
            Workers.MaxThreads = 1;
            var seen = Workers.Pinned(() =>
            {
                Workers.MaxThreads = 3;
                int raised = Workers.MaxThreads;
                return raised;
            });
            Assert.Equal(1, seen);
            Assert.Equal(3, Workers.MaxThreads);
            seen = Workers.Pinned(() => { Workers.MaxThreads = 2; return Workers.MaxThreads; });
            Assert.Equal(2, seen);
        }
        finally { Workers.MaxThreads = saved; }
    }

    /// <summary>A convolution's forward and backward passes with the setting raised from 1 to 2 at every node.</summary>
    [Fact]
    public void ATrainingPlanRunsOnTheThreadCountItStartedWith()
    {
        int saved = Workers.MaxThreads;
        try
        {
            var g = new ComputeGraph();
            var rng = new Random(3);
            Value P(string name, params int[] shape) =>
                g.AddParameter(name, new Tensor(shape, Enumerable.Range(0, (int)Shapes.ElementCount(shape)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()));
            var x = g.AddInput("x", [-1, 3, 20, 20]);
            var y = g.AddNode("conv", new ConvOp(new WindowSpec([3, 3], [1, 1], [1, 1], [1, 1, 1, 1], AutoPad.NotSet), 1), [x, P("w", 8, 3, 3, 3), P("b", 8)], ["y"]).Outputs[0];
            var z = g.AddNode("relu", new ReluOp(), [y], ["z"]).Outputs[0];
            g.MarkOutput(z);
            Workers.MaxThreads = 1;
            var plan = new TrainingPlan(g, [[4, 3, 20, 20]]);
            var input = new Tensor([4, 3, 20, 20], Enumerable.Range(0, 4 * 3 * 400).Select(i => MathF.Sin(i)).ToArray());
            var during = new List<int>();
            var output = plan.Forward([input], afterNode: (_, _) => { during.Add(Workers.MaxThreads); Workers.MaxThreads = 2; })[0];
            Assert.All(during, t => Assert.Equal(1, t));
            Workers.MaxThreads = 1;
            during.Clear();
            plan.Backward([new Tensor(output.ShapeArray, Enumerable.Repeat(1f, output.Length).ToArray())],
                beforeNode: _ => { during.Add(Workers.MaxThreads); Workers.MaxThreads = 2; });
            Assert.NotEmpty(during);
            Assert.All(during, t => Assert.Equal(1, t));
            Assert.Equal(2, Workers.MaxThreads);
        }
        finally { Workers.MaxThreads = saved; }
    }
}
