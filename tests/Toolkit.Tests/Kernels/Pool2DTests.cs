using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Separable, threaded pooling kernels against the plain per-element loops on many window geometries.</summary>
[Trait("Category", "Kernels")]
public class Pool2DTests
{
    /// <summary>Averages sum in another order (rows first): float32 rounding of a sum of at most 25 values in ±1.</summary>
    const double AverageTolerance = 1e-5;

    public static IEnumerable<object[]> Geometries()
    {
        var list = new List<Pool2DGeometry>
        {
            new(2, 3, 111, 111, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true, false),    // SqueezeNet's ceil-mode 3×3/2
            new(1, 2, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false),   // ResNet's padded 3×3/2
            new(1, 2, 6, 90, 3, 5, 2, 2, 1, 1, 0, 2, 0, 2, false, false),      // wide 3×5/2, pad 2: vector columns from 1, scalar tail
            new(2, 1, 4, 64, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false),      // 2×2/2 on a row of exactly 64
            new(1, 2, 5, 47, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, false, false),      // 3×3/2: one group of 16, then the last 16 columns again
            new(1, 1, 3, 33, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, false, false),      // exactly one group, reading to the buffer's end
            new(2, 3, 27, 27, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, true, false),      // SqueezeNet's 27×27: rows narrower than a group
            new(1, 2, 8, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false),      // narrow and padded
            new(1, 2, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, false, false),       // whole-plane window
            new(1, 1, 1, 9, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, false, true),        // 1-D as height 1
            new(1, 1, 5, 5, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, false, true),        // pads on every side, include pad
            new(2, 2, 9, 8, 3, 2, 2, 3, 2, 2, 1, 0, 2, 1, true, true),         // dilated, asymmetric, ceil
        };
        var r = new Random(5);
        for (int i = 0; i < 30; i++)
        {
            int kh = r.Next(1, 5), kw = r.Next(1, 5), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int h = r.Next(dh * (kh - 1) + 1, 17), w = r.Next(dw * (kw - 1) + 1, 17);
            var g = new Pool2DGeometry(r.Next(1, 3), r.Next(1, 4), h, w, kh, kw, r.Next(1, 4), r.Next(1, 4), dh, dw,
                r.Next(0, kh), r.Next(0, kw), r.Next(0, kh), r.Next(0, kw), r.Next(2) == 0, r.Next(2) == 0);
            if (g.OutHeight > 0 && g.OutWidth > 0) list.Add(g);
        }
        return list.Select(g => new object[] { g });
    }

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    static (float[] X, float[] Dy) Data(Pool2DGeometry g) =>
        (Random((long)g.Batch * g.Channels * g.InHeight * g.InWidth, 1), Random((long)g.Batch * g.Channels * g.OutHeight * g.OutWidth, 2));

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxForwardAndBackwardEqualReference(Pool2DGeometry g)
    {
        var (x, dy) = Data(g);
        var expected = new float[dy.Length]; var actual = new float[dy.Length];
        ReferencePool2D.MaxForward(g, x, expected, default);
        Pool2D.MaxForward(g, x, actual);
        Assert.Equal(expected, actual);
        var dxExpected = Random(x.Length, 3); var dxActual = (float[])dxExpected.Clone();
        ReferencePool2D.MaxBackward(g, x, dy, dxExpected);
        Pool2D.MaxBackward(g, x, actual, dy, dxActual);
        Assert.Equal(dxExpected, dxActual);
    }

    /// <summary>
    /// Values from a handful of levels, so most windows hold their maximum more than once: the gradient must go to the
    /// first of them in row-major window order, and dx (not zero to begin with) must equal the reference to the bit,
    /// on stride-2 rows wide enough for the vector columns.
    /// </summary>
    [Theory]
    [InlineData(2, 111, 111, 0, true)]     // SqueezeNet's ceil-mode 3×3/2
    [InlineData(3, 112, 112, 1, false)]    // ResNet's padded 3×3/2
    [InlineData(1, 9, 150, 1, false)]
    [InlineData(2, 55, 55, 0, true)]      // SqueezeNet's second and third pools: a last group of 11 columns, then 13 alone
    [InlineData(2, 27, 27, 0, true)]
    [InlineData(3, 13, 13, 0, true)]
    [InlineData(1, 7, 33, 1, false)]
    [InlineData(2, 6, 5, 0, false)]       // two outputs per row, their windows ending at the row's (and plane's) last float
    [InlineData(1, 5, 66, 1, true)]       // ceil mode with padding: the last window runs past the row, left to the scalar loop
    public void MaxBackwardWithTiesEqualsReference(int channels, int h, int w, int pad, bool ceil)
    {
        var g = new Pool2DGeometry(2, channels, h, w, 3, 3, 2, 2, 1, 1, pad, pad, pad, pad, ceil, false);
        var r = new Random(11);
        var x = Enumerable.Range(0, g.Batch * channels * h * w).Select(_ => (float)r.Next(-1, 3)).ToArray();
        var dy = Random((long)g.Batch * channels * g.OutHeight * g.OutWidth, 12);
        var y = new float[dy.Length];
        Pool2D.MaxForward(g, x, y);
        var dxExpected = Random(x.Length, 13); var dxActual = (float[])dxExpected.Clone();
        ReferencePool2D.MaxBackward(g, x, dy, dxExpected);
        Pool2D.MaxBackward(g, x, y, dy, dxActual);
        Assert.Equal(dxExpected, dxActual);

        // Set rather than added: whatever dx held (NaN here) is replaced by the gradient alone.
        var fromZero = new float[x.Length];
        ReferencePool2D.MaxBackward(g, x, dy, fromZero);
        var set = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Pool2D.MaxBackward(g, x, y, dy, set, add: false);
        Assert.Equal(fromZero, set);
    }

    /// <summary>
    /// Infinities and both zeros among the inputs of 3×3 stride-2 windows (the rows swept down the plane and the edge
    /// rows left to the row path): the maxima equal the reference's to the bit.
    /// </summary>
    [Theory]
    [InlineData(41, 41, 0)]
    [InlineData(56, 75, 1)]
    [InlineData(27, 27, 0)]
    public void MaxForwardOfSpecialValuesEqualsReferenceBits(int h, int w, int pad)
    {
        var g = new Pool2DGeometry(2, 3, h, w, 3, 3, 2, 2, 1, 1, pad, pad, pad, pad, false, false);
        var x = Random((long)g.Batch * g.Channels * h * w, 11);
        var r = new Random(12);
        float[] specials = [float.PositiveInfinity, float.NegativeInfinity, 0f, -0f];
        for (int i = 0; i < x.Length; i += r.Next(1, 40)) x[i] = specials[r.Next(specials.Length)];
        var expected = new float[g.Batch * g.Channels * g.OutHeight * g.OutWidth];
        var actual = new float[expected.Length];
        ReferencePool2D.MaxForward(g, x, expected, default);
        Pool2D.MaxForward(g, x, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{g} at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AverageForwardAndBackwardEqualReference(Pool2DGeometry g)
    {
        var (x, dy) = Data(g);
        var expected = new float[dy.Length]; var actual = new float[dy.Length];
        ReferencePool2D.AverageForward(g, x, expected);
        Pool2D.AverageForward(g, x, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= AverageTolerance, $"{g} at {i}: expected {expected[i]}, got {actual[i]}");
        var dxExpected = Random(x.Length, 3); var dxActual = (float[])dxExpected.Clone();
        ReferencePool2D.AverageBackward(g, dy, dxExpected);
        Pool2D.AverageBackward(g, dy, dxActual);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(dxExpected[i] - dxActual[i]) <= AverageTolerance, $"{g} dx at {i}: expected {dxExpected[i]}, got {dxActual[i]}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 169)]
    [InlineData(300, 49)]
    [InlineData(2048, 17)]
    public void GlobalPoolingEqualsReference(int planes, int size)
    {
        var x = Random((long)planes * size, 4);
        var e = new float[planes]; var a = new float[planes];
        ReferencePool2D.GlobalAverage(planes, size, x, e);
        Pool2D.GlobalAverage(planes, size, x, a);
        for (int i = 0; i < planes; i++) Assert.True(Math.Abs(e[i] - a[i]) <= AverageTolerance, $"average plane {i}: {e[i]} vs {a[i]}");
        ReferencePool2D.GlobalMax(planes, size, x, e);
        Pool2D.GlobalMax(planes, size, x, a);
        Assert.Equal(e, a);
    }
}
