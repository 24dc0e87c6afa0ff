using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Dropout's vectorized, threaded masks against the per-element hash that defines them.</summary>
[Trait("Category", "Kernels")]
public class DropoutTests
{
    [Theory]
    [InlineData(0.5f, 0UL)]
    [InlineData(0.3f, 12345UL)]
    [InlineData(0.1f, ulong.MaxValue)]
    [InlineData(0f, 7UL)]
    [InlineData(1f, 7UL)]
    public void FactorsEqualKeepAtEveryOffsetAndLength(float ratio, ulong seed)
    {
        var op = new DropoutOp(ratio) { Seed = seed };
        foreach (long step in new long[] { 0, 1, 99_999 })
            foreach (int start in new[] { 0, 1, 3, 1021, 2_000_001 })
                foreach (int n in new[] { 1, 3, 4, 5, 31, 1024 })
                {
                    var f = new float[n];
                    op.Factors(step, start, f, 2.5f);
                    for (int k = 0; k < n; k++)
                        Assert.True(f[k] == (op.Keep(step, start + k) ? 2.5f : 0f), $"ratio {ratio} seed {seed} step {step} element {start + k}: factor {f[k]}");
                }
    }

    /// <summary>Forward and backward over a tensor spread across threads and blocks equal the per-element definition to the bit.</summary>
    [Fact]
    public void ForwardAndBackwardEqualThePerElementDefinition()
    {
        var op = new DropoutOp(0.4f) { Seed = 3 };
        int n = 5 * 1024 + 37;
        var r = new Random(1);
        var x = new Tensor([n]); var g = new Tensor([n]);
        for (int i = 0; i < n; i++) { x.Span[i] = (float)(r.NextDouble() * 2 - 1); g.Span[i] = (float)(r.NextDouble() * 2 - 1); }
        x.Span[5] = float.NaN; x.Span[6] = float.PositiveInfinity;
        var ctx = new OpContext { Inputs = [x], Outputs = [new Tensor([n])], Training = true, Step = 17 };
        op.Forward(ctx);
        float scale = 1f / (1f - 0.4f);
        for (int i = 0; i < n; i++)
        {
            float expected = op.Keep(17, i) ? x.Span[i] * scale : 0;
            Assert.True(ctx.Outputs[0].Span[i].Equals(expected), $"y[{i}] = {ctx.Outputs[0].Span[i]}, expected {expected}");
        }
        var dx = new Tensor([n]); dx.Span.Fill(0.25f);
        ctx.OutputGrads = [g]; ctx.InputGrads = [dx];
        op.Backward(ctx);
        for (int i = 0; i < n; i++)
        {
            float expected = op.Keep(17, i) ? 0.25f + g.Span[i] * scale : 0.25f;
            Assert.True(dx.Span[i] == expected, $"dx[{i}] = {dx.Span[i]}, expected {expected}");
        }
    }
}

/// <summary>Dropout of ratio 0 is the identity in training too: a view in a training plan, with the gradients of the graph without it.</summary>
public class DropoutRatioZeroTests
{
    static (TransferKit.Toolkit.Graph.ComputeGraph Graph, TransferKit.Toolkit.Graph.Parameter W) Net(bool dropout)
    {
        var g = new TransferKit.Toolkit.Graph.ComputeGraph();
        var x = g.AddInput("x", [-1, 6]);
        var w = g.AddParameter("w", new Tensor([6, 4], Enumerable.Range(0, 24).Select(i => MathF.Sin(i + 1)).ToArray()));
        var v = dropout ? g.AddNode("drop", new DropoutOp(0) { Seed = 9 }, [x], ["d"]).Outputs[0] : x;
        var h = g.AddNode("mm", new MatMulOp(), [v, w], ["h"]).Outputs[0];
        var y = g.AddNode("tanh", new TanhOp(), [h], ["y"]).Outputs[0];
        g.MarkOutput(y);
        return (g, w.Parameter!);
    }

    [Fact]
    public void ARatioOfZeroTrainsAsIfThereWereNoDropout()
    {
        var input = new Tensor([3, 6], Enumerable.Range(0, 18).Select(i => MathF.Cos(i) * 2).ToArray());
        var results = new List<(float[] Y, float[] Grad)>();
        foreach (bool dropout in new[] { false, true })
        {
            var (graph, w) = Net(dropout);
            var plan = new TransferKit.Toolkit.Graph.TrainingPlan(graph, [[3, 6]]);
            var y = plan.Forward([input], _ => true, step: 5)[0];
            var seed = new Tensor(y.ShapeArray, Enumerable.Range(0, y.Length).Select(i => 0.25f * (i % 5) - 0.5f).ToArray());
            var yCopy = y.Span.ToArray();
            plan.Backward([seed]);
            results.Add((yCopy, w.Grad!.Span.ToArray()));
        }
        Assert.Equal(results[0].Y, results[1].Y);
        Assert.Equal(results[0].Grad, results[1].Grad);
        Assert.True(new DropoutOp(0).IsView);
        Assert.False(new DropoutOp(0.1f).IsView);
    }
}
