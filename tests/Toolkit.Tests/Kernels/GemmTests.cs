using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The packed GEMM (whichever micro-kernel this process runs) against the double-accumulating reference.</summary>
[Trait("Category", "Kernels")]
public class GemmTests
{
    /// <summary>
    /// Allowed error relative to Σ|a·b| of the element: float32 summation of k products in any order stays within
    /// k·ε·Σ|a·b|; with k ≤ 600 that is below 1e-4 (ε = 6e-8), and 1e-5 covers the sizes tested at random order.
    /// </summary>
    const double RelativeToMagnitude = 2e-5;

    static float[] Random(int n, Random r) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();

    static void Check(bool ta, bool tb, int m, int n, int k, float alpha, float beta, int seed, int extraLd = 0)
    {
        var r = new Random(seed);
        int lda = (ta ? m : k) + extraLd, ldb = (tb ? k : n) + extraLd, ldc = n + extraLd;
        var a = Random((ta ? k : m) * lda, r); var b = Random((tb ? n : k) * ldb, r);
        var c0 = Random(m * ldc, r);
        if (beta == 0) Array.Fill(c0, float.NaN); // beta 0 must ignore C entirely
        var expected = (float[])c0.Clone(); var actual = (float[])c0.Clone();
        ReferenceGemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, actual, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double mag = 0;
                for (int p = 0; p < k; p++) mag += Math.Abs((ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]));
                mag = Math.Abs(alpha) * mag + (beta == 0 ? 0 : Math.Abs(beta * c0[i * ldc + j]));
                float e = expected[i * ldc + j], x = actual[i * ldc + j];
                Assert.True(Math.Abs(e - x) <= RelativeToMagnitude * (mag + 1e-30),
                    $"{Gemm.Path} ta={ta} tb={tb} m={m} n={n} k={k} at ({i},{j}): expected {e}, got {x}");
            }
        // Padding columns of C beyond n are untouched.
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++) Assert.Equal(c0[i * ldc + j], actual[i * ldc + j]);
    }

    /// <summary>
    /// A packed once (<see cref="Gemm.Pack"/>) then multiplied: the same products as packing in every call, at sizes
    /// around the tile, the 144-row block, the 256-deep panel, shallow products whose strips go in chunks (see
    /// <see cref="CacheSizes"/>), on one thread and split across threads, with the
    /// finished-columns callback seeing every element once.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 17, 5)]
    [InlineData(13, 49, 300)]
    [InlineData(145, 33, 257)]
    [InlineData(150, 700, 520)]
    [InlineData(6, 1000, 16)]
    [InlineData(97, 1500, 16)]   // shallow: strips in chunks of several per row tile, edge rows and a partial strip
    [InlineData(20, 2100, 33)]
    [InlineData(392, 98, 600)]   // few columns (the row-vector kernels on AVX-512): 8-column groups, a 2-wide tail, an 8-row edge strip
    [InlineData(96, 7, 300)]     // few columns: groups of 4, 2 and 1, split across threads by strips
    [InlineData(1000, 50, 64)]   // few columns at the least depth, the last strip 8 rows
    [InlineData(32, 255, 256)]   // the widest few-column product, one strip, one depth block
    [InlineData(392, 49, 1300)]  // few columns over two depth ranges of four blocks each (the last short), the last strip 8 rows
    [InlineData(64, 338, 300)]   // few columns up to twice the limit with enough depth (two 13×13 images)
    [InlineData(96, 196, 576)]   // few columns, three strips on two threads: each strip cut into column ranges
    [InlineData(32, 196, 192)]   // few columns, one strip: its column ranges on two threads
    public void APackedOnceGivesTheSameProducts(int m, int n, int k)
    {
        var r = new Random(m * 31 + n * 7 + k);
        var a = Random(m * k, r); var b = Random(k * n, r);
        var expected = new float[m * n];
        ReferenceGemm.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, expected, n);
        var packed = Gemm.Pack(a, m, k);
        foreach (int threads in new[] { 1, 2 })
        {
            var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            var seen = new int[m * n];
            Gemm.Sgemm(packed, n, b, n, c, n, threads, (start, length) => { for (int i = start; i < start + length; i++) Interlocked.Increment(ref seen[i]); });
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double mag = 0;
                    for (int p = 0; p < k; p++) mag += Math.Abs(a[i * k + p] * b[p * n + j]);
                    Assert.True(Math.Abs(expected[i * n + j] - c[i * n + j]) <= RelativeToMagnitude * (mag + 1e-30),
                        $"{Gemm.Path} packed m={m} n={n} k={k}, {threads} threads, at ({i},{j}): expected {expected[i * n + j]}, got {c[i * n + j]}");
                    Assert.Equal(1, seen[i * n + j]);
                }
        }
    }

    /// <summary>
    /// A few-column product whose strips do not divide among the threads (cut into column ranges then) gives the bits it
    /// gives on one thread, whatever the thread count: every element sums its depth in the same order.
    /// </summary>
    [Theory]
    [InlineData(96, 196, 576)]
    [InlineData(160, 49, 960)]
    [InlineData(32, 100, 200)]
    [InlineData(224, 13, 70)]
    public void FewColumnsGiveTheSameBitsOnAnyThreadCount(int m, int n, int k)
    {
        var r = new Random(m + n + k);
        var a = Random(m * k, r); var b = Random(k * n, r);
        var packed = Gemm.Pack(a, m, k);
        float[] Run(int threads)
        {
            var c = new float[m * n];
            Gemm.Sgemm(packed, n, b, n, c, n, threads);
            return c;
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3, 4, 5 })
            Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), Run(threads).Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void FewColumnsTakeOnlyNearlyFullStrips()
    {
        bool wide = Gemm.Path.StartsWith("avx512", StringComparison.Ordinal);
        // 48 rows would compute 64 (a quarter of padding), 80 would compute 96; 1000 computes 1024.
        Assert.False(Gemm.TakesFewColumns(48, 169, 256));
        Assert.False(Gemm.TakesFewColumns(80, 196, 480));
        Assert.Equal(wide, Gemm.TakesFewColumns(64, 169, 256));
        Assert.Equal(wide, Gemm.TakesFewColumns(1000, 169, 512));
        Assert.Equal(wide, Gemm.TakesFewColumns(1000, 50, 64));
        Assert.Equal(wide, Gemm.TakesFewColumns(392, 49, 1300));
        Assert.Equal(wide, Gemm.TakesFewColumns(392, 98, 600));
        Assert.Equal(wide, Gemm.TakesFewColumns(96, 7, 300));
    }

    [Fact]
    public void EveryRemainderOfTheTile()
    {
        // m covers every remainder of MR (8, 6, 4), n every remainder of NR (32, 16, 4).
        for (int m = 1; m <= 17; m++)
            for (int n = 1; n <= 70; n += m % 3 == 0 ? 1 : 3)
                Check(false, false, m, n, 1 + (m * n) % 13, 1f, 0f, m * 100 + n);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void TransposesAlphaBetaAndStrides(bool ta, bool tb)
    {
        Check(ta, tb, 13, 37, 29, 0.7f, 0f, 1);
        Check(ta, tb, 9, 33, 300, -1.5f, 0.5f, 2);          // k spans two depth blocks
        Check(ta, tb, 7, 19, 5, 1f, 1f, 3, extraLd: 5);      // leading dimensions wider than the matrix
        Check(ta, tb, 1, 1, 1, 2f, -1f, 4);
    }

    [Theory]
    [InlineData(1, 1000, 1280, 0f)]   // a classifier on one image (split across threads)
    [InlineData(1, 7, 47, 0.5f)]      // one row: seven rows of B alone; 32 floats a step, then a tail of 15
    [InlineData(1, 15, 63, 0.5f)]     // a group of eight rows of B and seven alone; a last 16, then a tail of 15
    [InlineData(1, 5, 48, 0f)]        // 32 floats a step, then a last 16
    [InlineData(1, 3, 33, 1f)]        // only columns alone
    [InlineData(1, 9, 100, 0f)]
    [InlineData(4, 37, 300, 0.5f)]    // the most rows taken as dot products, with beta
    [InlineData(5, 37, 300, 0f)]      // one row more: the packed path
    [InlineData(2, 3, 1, 1f)]
    public void FewRowsAgainstATransposedBAsDotProducts(int m, int n, int k, float beta)
    {
        Assert.True(Gemm.DotMaxRows == 4, "the cases above straddle DotMaxRows");
        Check(false, true, m, n, k, 1.25f, beta, m * 7 + n);
        Check(false, true, m, n, k, 1f, beta, m * 7 + n + 1, extraLd: 3);
    }

    /// <summary>One row of A against a transposed B: each column's sum is the same to the bit however the columns are split across threads.</summary>
    [Fact]
    public void OneRowGivesTheSameSumsOnAnyThreadCount()
    {
        var r = new Random(21);
        int n = 1003, k = 1279;
        var a = Random(k, r); var b = Random(n * k, r);
        float[] Run(int threads)
        {
            var c = new float[n];
            Gemm.Sgemm(false, true, 1, n, k, 1f, a, k, b, k, 0f, c, n, threads);
            return c;
        }
        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(3));
        // A column alone gives the bits it gets inside a group of eight.
        foreach (int j in new[] { 0, 5, 8, 13, 999, 1002 })
        {
            var c = new float[1];
            Gemm.Sgemm(false, true, 1, 1, k, 1f, a, k, b.AsSpan(j * k, k), k, 0f, c, 1, 1);
            Assert.Equal(BitConverter.SingleToInt32Bits(one[j]), BitConverter.SingleToInt32Bits(c[0]));
        }
    }

    [Fact]
    public void LargeShapesSplitAcrossThreadsAndBlocks() =>
        // m > MC, n > NC and k > KC: every blocking loop runs more than once, and both threads share the columns.
        Check(false, false, 150, 1100, 520, 1f, 0f, 5);

    [Fact]
    public void BReadInPlaceOrPackedAroundTheRowLimit()
    {
        // Up to 144 rows (MC) a row-major B is read in place (only a last partial strip is packed), above that it is
        // packed; both sides of the limit, with several column and depth blocks, wider leading dimensions and partial strips.
        Check(false, false, 144, 1100, 520, 1f, 0.5f, 9);
        Check(false, false, 145, 1100, 520, 1f, 0.5f, 10);
        Check(true, false, 127, 77, 300, -0.5f, 1f, 11, extraLd: 3);
        Check(false, false, 64, 64, 257, 1f, 0f, 12, extraLd: 9);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void PackingBy8x8TransposesLeavesNoRemainderBehind(bool ta, bool tb)
    {
        // Plain A and transposed B are packed 8 rows (columns) and 8 depths at a time: rows past a multiple of 8 in a
        // strip (13 = 8 + 5), columns past one (45 = 32 + 8 + 5), depth tails (300 = 256 + 40 + 4, 21 = 16 + 5).
        Check(ta, tb, 13, 45, 300, 1f, 0f, 13);
        Check(ta, tb, 150, 45, 21, -1f, 0.5f, 14, extraLd: 3);
        Check(ta, tb, 8, 40, 8, 1f, 1f, 15);
    }

    [Fact]
    public void ConvolutionLikeShapes()
    {
        Check(false, false, 64, 3136 / 7, 27, 1f, 0f, 6);
        Check(true, false, 24, 200, 144, 1f, 1f, 7);
        Check(false, true, 32, 50, 576, 1f, 0f, 8);
    }

    [Fact]
    public void ZeroDepthScalesC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Sgemm(false, false, 2, 2, 0, 1, [], 1, [], 2, 0.5f, c, 2);
        Assert.Equal([0.5f, 1f, 1.5f, 2f], c);
        Gemm.Sgemm(false, false, 2, 2, 0, 1, [], 1, [], 2, 0f, c, 2);
        Assert.Equal([0f, 0f, 0f, 0f], c);
    }
}

/// <summary>The CI runs the kernel tests with AVX-512 and then AVX2 switched off: the path must really change.</summary>
[Trait("Category", "Kernels")]
public class KernelPathTests
{
    [Fact]
    public void MicroKernelFollowsTheInstructionSetSwitches()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0") Assert.Equal("scalar 4x4", Gemm.Path);
        // .NET 10 reads DOTNET_EnableAVX512 (DOTNET_EnableAVX512F was the .NET 8 name and is ignored); CI sets both.
        else if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0") Assert.Equal("avx2 6x16", Gemm.Path);
        else Assert.False(string.IsNullOrEmpty(Gemm.Path));
    }
}
