using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>
/// The masked-load 3×3 depthwise kernel (stride 1, padding 1) against the plain loop and against the padded-buffer
/// kernel it replaces: heights that take the one-row, four-row and remainder paths, widths around 16 and its
/// multiples, bounds in registers, and the accumulating form the input gradient uses.
/// </summary>
[Trait("Category", "Kernels")]
public class Depthwise3x3DirectTests
{
    /// <summary>Error relative to Σ|x·w| of the output element (float32 summation in another order, as Conv2DTests).</summary>
    const double RelativeToMagnitude = 2e-5;

    /// <summary>Stride 1 (padding 1 all round) and stride 2 (padding 1 all round, and 1 only above and to the left).</summary>
    public static IEnumerable<object[]> Sizes() =>
        from s in new[] { 1, 2, 3 }
        from h in new[] { 1, 2, 3, 5, 6, 7, 9, 14, 18 }
        from w in new[] { 1, 2, 7, 14, 15, 16, 17, 28, 31, 32, 33, 57 }
        where s != 3 || (h > 1 && w > 1)   // padded to at least the kernel
        select new object[] { s, h, w };

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Case 1: stride 1; 2: stride 2, padding 1 all round; 3: stride 2, padding 1 above and to the left only.</summary>
    static Conv2DGeometry Geometry(int s, int h, int w) =>
        new(2, 3, h, w, 3, 3, 3, Math.Min(s, 2), Math.Min(s, 2), 1, 1, 1, 1, s == 3 ? 0 : 1, s == 3 ? 0 : 1, 3);

    [Theory]
    [MemberData(nameof(Sizes))]
    public unsafe void MatchesTheReferenceAndThePaddedKernel(int s, int h, int w)
    {
        var g = Geometry(s, h, w);
        if (!Depthwise3x3Direct.Applies(g)) { Assert.False(System.Runtime.Intrinsics.X86.Avx512F.IsSupported); return; }
        var x = Random(g.Batch * g.InChannels * h * w, 1);
        var k = Random(g.OutChannels * 9, 2);
        var bias = Random(g.OutChannels, 3);
        int planes = g.Batch * g.OutChannels, n = planes * g.OutHeight * g.OutWidth;
        var expected = new float[n];
        ReferenceConv2D.Forward(g, x, k, bias, expected);
        var bounds = new ConvClamp(-0.25f, 0.5f);
        var direct = new float[n];
        var directBounded = new float[n];
        var padded = new float[n];
        var rows = new DepthwiseRows(g, wide: true);
        fixed (float* px = x, pk = k, pb = bias, pd = direct, pdb = directBounded, pp = padded)
            for (int p = 0; p < planes; p++)
            {
                Depthwise3x3Direct.Plane(g, p, px + (long)p * h * w, pk, pb, pd, ConvClamp.None);
                Depthwise3x3Direct.Plane(g, p, px + (long)p * h * w, pk, pb, pdb, bounds);
                rows.Plane(p, px, pk, pb, pp, null);
            }
        double bound = RelativeToMagnitude * (1 + 9);
        for (int i = 0; i < n; i++)
        {
            Assert.True(Math.Abs(expected[i] - direct[i]) <= bound, $"{g} at {i}: expected {expected[i]}, got {direct[i]}");
            // Same multiply-adds in the same order as the padded kernel: the same bits.
            Assert.Equal(padded[i], direct[i]);
            Assert.Equal(Math.Clamp(direct[i], bounds.Min, bounds.Max), directBounded[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public unsafe void AccumulatesOntoWhatIsThere(int s, int h, int w)
    {
        var g = Geometry(s, h, w);
        if (!Depthwise3x3Direct.Applies(g)) { Assert.False(System.Runtime.Intrinsics.X86.Avx512F.IsSupported); return; }
        var x = Random(g.Batch * g.InChannels * h * w, 4);
        var k = Random(g.OutChannels * 9, 5);
        int planes = g.Batch * g.OutChannels, n = planes * g.OutHeight * g.OutWidth;
        var sum = new float[n];
        ReferenceConv2D.Forward(g, x, k, ReadOnlySpan<float>.Empty, sum);
        var before = Random(n, 6);
        var y = (float[])before.Clone();
        fixed (float* px = x, pk = k, py = y)
            for (int p = 0; p < planes; p++) Depthwise3x3Direct.Plane(g, p, px + (long)p * h * w, pk, null, py, ConvClamp.None, accumulate: true);
        double bound = RelativeToMagnitude * (1 + 9) + 1e-6;
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(before[i] + sum[i] - y[i]) <= bound, $"{g} at {i}: expected {before[i] + sum[i]}, got {y[i]}");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public unsafe void WeightGradientMatchesTheReference(int s, int h, int w)
    {
        var g = Geometry(s, h, w);
        if (!Depthwise3x3Direct.Applies(g)) { Assert.False(System.Runtime.Intrinsics.X86.Avx512F.IsSupported); return; }
        var x = Random(g.Batch * g.InChannels * h * w, 7);
        var dy = Random(g.Batch * g.OutChannels * g.OutHeight * g.OutWidth, 8);
        // Added to what is there.
        var expected = Random(g.OutChannels * 9, 9);
        var actual = (float[])expected.Clone();
        ReferenceConv2D.BackwardWeight(g, x, dy, expected);
        fixed (float* px = x, pdy = dy, pdw = actual)
            for (int c = 0; c < g.OutChannels; c++) Depthwise3x3Direct.Weights(g, c, px, pdy, pdw);
        double bound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} dW at {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>The input gradient (stride 1 as a forward pass with turned filters, stride 2 by rows of even and odd columns), added and set.</summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void DataGradientMatchesTheReference(int s, int h, int w)
    {
        var g = Geometry(s, h, w);
        var k = Random(g.OutChannels * 9, 10);
        var dy = Random(g.Batch * g.OutChannels * g.OutHeight * g.OutWidth, 11);
        var before = Random(g.Batch * g.InChannels * h * w, 12);
        var expected = (float[])before.Clone();
        ReferenceConv2D.BackwardData(g, dy, k, expected);
        var added = (float[])before.Clone();
        Assert.True(DepthwiseConv2D.DataAsForward(g, dy, k, added, add: true));
        var set = Enumerable.Repeat(float.NaN, before.Length).ToArray();
        Assert.True(DepthwiseConv2D.DataAsForward(g, dy, k, set, add: false));
        double bound = RelativeToMagnitude * (1 + 9);
        for (int i = 0; i < before.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - added[i]) <= bound, $"{g} added dx at {i}: expected {expected[i]}, got {added[i]}");
            Assert.True(Math.Abs(expected[i] - before[i] - set[i]) <= bound, $"{g} set dx at {i}: expected {expected[i] - before[i]}, got {set[i]}");
        }
    }

    [Fact]
    public unsafe void BoundsRefuseToAccumulate()
    {
        var g = Geometry(1, 3, 3);
        var x = new float[g.Batch * 3 * 9];
        var k = new float[27];
        var y = new float[x.Length];
        Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* px = x, pk = k, py = y) Depthwise3x3Direct.Plane(g, 0, px, pk, null, py, new ConvClamp(0, 6), accumulate: true);
        });
    }
}
