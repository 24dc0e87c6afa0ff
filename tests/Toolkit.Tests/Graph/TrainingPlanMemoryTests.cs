using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Graph;

/// <summary>Activation gradients reuse buffers by liveness, and the result equals a freshly planned run.</summary>
public class TrainingPlanMemoryTests
{
    /// <summary>x·s through a chain of 12 activations: gradients live two at a time, not twelve.</summary>
    static (ComputeGraph Graph, Parameter Scale) Chain()
    {
        var g = new ComputeGraph();
        var x = g.AddInput("x", [-1, 1000]);
        var s = g.AddParameter("s", new Tensor([1000], Enumerable.Range(0, 1000).Select(i => 0.5f + i % 7 * 0.1f).ToArray()));
        var v = g.AddNode("scale", new MulOp(), [x, s], ["v0"]).Outputs[0];
        for (int i = 1; i <= 12; i++)
            v = g.AddNode($"n{i}", i % 2 == 0 ? new ReluOp() : new TanhOp(), [v], [$"v{i}"]).Outputs[0];
        g.MarkOutput(v);
        return (g, s.Parameter!);
    }

    [Fact]
    public void GradientBuffersAreReusedAlongAChain()
    {
        var (g, _) = Chain();
        var plan = new TrainingPlan(g, [[4, 1000]]);
        // Thirteen activations need a gradient; at most the output's, one being written and one being read are alive.
        Assert.True(plan.GradientFloats <= 3 * 4 * 1000, $"{plan.GradientFloats} gradient floats");
    }

    [Fact]
    public void RepeatedStepsGiveTheSameGradient()
    {
        var (g, s) = Chain();
        var plan = new TrainingPlan(g, [[4, 1000]]);
        var x = new Tensor([4, 1000], Enumerable.Range(0, 4000).Select(i => MathF.Sin(i * 0.37f)).ToArray());
        var dy = new Tensor([4, 1000], Enumerable.Range(0, 4000).Select(i => MathF.Cos(i * 0.11f)).ToArray());
        float[]? first = null;
        for (int step = 0; step < 3; step++)
        {
            plan.Forward([x]);
            plan.ZeroGrad();
            plan.Backward([dy]);
            var grad = s.Grad!.Span.ToArray();
            Assert.Contains(grad, v => v != 0);
            if (first == null) first = grad; else Assert.Equal(first, grad);
        }
    }
}
