using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The derivative bits of Relu and Clip against the per-element rule, and the ops' masked backward against the dense formula.</summary>
[Trait("Category", "Kernels")]
public class BitMaskTests
{
    /// <summary>Values around and on the bounds, infinities and NaN among random ones.</summary>
    static float[] Values(int n, int seed) =>
        SpecialValues.Mixed(n, seed, [0f, -0f, 6f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon, 5.9999995f, 6.0000005f], -5);

    [Theory]
    [InlineData(0f, float.NaN)]
    [InlineData(0f, 6f)]
    [InlineData(-1f, 1f)]
    [InlineData(0f, float.PositiveInfinity)]
    public void PackedBitsFollowTheRule(float lo, float hi)
    {
        foreach (int n in new[] { 1, 7, 8, 9, 63, 64, 1000 })
        {
            var y = Values(n, n);
            var mask = new byte[BitMask.Bytes(n)];
            BitMask.PackOpenInterval(y, lo, hi, mask);
            for (int i = 0; i < n; i++)
                Assert.True(((mask[i / 8] >> (i % 8) & 1) != 0) == (y[i] > lo && (float.IsNaN(hi) || y[i] < hi)),
                    $"({lo}, {hi}) n {n} element {i} = {y[i]:G9}: bit {(mask[i / 8] >> (i % 8)) & 1}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SelectPassesTheGradientWhereTheBitIsSet(bool add)
    {
        foreach (int n in new[] { 1, 5, 8, 17, 1003 })
        {
            var rng = new Random(n);
            var mask = new byte[BitMask.Bytes(n)];
            rng.NextBytes(mask);
            var g = Values(n, n + 1).Select(v => float.IsNaN(v) || float.IsInfinity(v) ? 1.5f : v).ToArray();
            var dx = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray();
            var expected = dx.Select((d, i) => ((mask[i / 8] >> (i % 8)) & 1) != 0 ? (add ? d + g[i] : g[i]) : (add ? d : 0f)).ToArray();
            BitMask.Select(mask, g, dx, add);
            Assert.Equal(expected, dx);
        }
    }

    /// <summary>Relu and Clip through the masked path, split across threads, equal dx = g·f′(y) with f′ from the scalar derivative.</summary>
    [Fact]
    public void MaskedBackwardEqualsTheDenseFormula()
    {
        foreach (var op in new MaskedUnaryOp[] { new ReluOp(), new ClipOp(0, 6), new ClipOp(-1, 1) })
        {
            int n = 300_007;
            var x = new Tensor([n], Values(n, 3));
            var y = new Tensor([n]);
            var ctx = new OpContext { Inputs = [x], Outputs = [y] };
            op.Forward(ctx);
            for (int i = 0; i < n; i++)
                if (!float.IsNaN(x.Span[i])) Assert.True(y.Span[i].Equals(op.Scalar(x.Span[i])), $"{op.Describe()} element {i}");
            var g = new Tensor([n], Enumerable.Range(0, n).Select(i => (float)Math.Cos(i)).ToArray());
            var dx = new Tensor([n]);
            ctx.OutputGrads = [g];
            ctx.InputGrads = [dx];
            op.Backward(ctx);
            for (int i = 0; i < n; i++)
                Assert.True(dx.Span[i] == g.Span[i] * op.Derivative(x.Span[i], y.Span[i]), $"{op.Describe()} element {i}: {dx.Span[i]} for y {y.Span[i]}");
        }
    }

    [Fact]
    public void BackwardWithoutARecordedMaskIsRefused()
    {
        var op = new ReluOp();
        var ctx = new OpContext { Inputs = [new Tensor([4])], Outputs = [new Tensor([4])], RecordsForBackward = false };
        op.Forward(ctx);
        ctx.OutputGrads = [new Tensor([4])];
        ctx.InputGrads = [new Tensor([4])];
        var e = Assert.Throws<InvalidOperationException>(() => op.Backward(ctx));
        Assert.Contains("Relu", e.Message);
    }
}
