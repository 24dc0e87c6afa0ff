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
