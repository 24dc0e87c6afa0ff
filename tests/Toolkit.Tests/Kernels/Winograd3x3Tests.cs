using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Winograd F(4×4, 3×3): forward, input gradient and weight gradient against the plain loop, and the dispatch.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class Winograd3x3Tests
{
    /// <summary>
    /// Error relative to Σ|x·w| of the output element. The transforms scale values by up to 5 (Bᵀ) and 8 (Aᵀ) on each
    /// side before and after the float32 sums, so F(4×4, 3×3) rounds about ten times coarser than direct summation;
    /// measured up to 4.2e-7 on these shapes, against 2e-5 (<see cref="Conv2DTests"/>) for the direct kernels.
    /// </summary>
    const double RelativeToMagnitude = 2e-6;

    static Conv2DGeometry Same3x3(int batch, int channels, int height, int width, int filters) =>
        new(batch, channels, height, width, filters, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);

    public static IEnumerable<object[]> Geometries() => new[]
    {
        Same3x3(1, 3, 7, 7, 4),        // one partial tile row and column
        Same3x3(3, 5, 9, 11, 6),       // H, W not multiples of 4, batch 3
        Same3x3(1, 2, 1, 1, 3),        // 1×1 plane: one tile, almost all padding
        Same3x3(3, 4, 2, 2, 5),        // 2×2 planes
        Same3x3(3, 1, 4, 4, 1),        // exactly one tile per image, one channel
        Same3x3(2, 17, 13, 6, 19),     // channels not multiples of the vector width
        Same3x3(2, 16, 15, 15, 64),    // fewer channels than filters (SqueezeNet's expand3x3): dU laid out transposed
        Same3x3(2, 64, 9, 9, 16),      // more channels than filters
        Same3x3(3, 9, 5, 30, 10),      // 8 tiles across, 2 down: lanes cross image rows and images
        Same3x3(2, 12, 23, 21, 11),    // 36 tiles per image: vector groups and a scalar tail
        Same3x3(5, 10, 14, 14, 12),    // ResNet's 14×14 shape: 80 tiles
        Same3x3(4, 20, 7, 7, 24),      // ResNet's 7×7 shape: 16 tiles, one vector
        Same3x3(2, 160, 17, 18, 150),  // wide channels: GEMMs of more than one packed block
        Same3x3(3, 5, 64, 71, 6),      // 864 tiles: several blocks per thread, each a few vector groups
    }.Select(g => new object[] { g });

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    static (float[] X, float[] W, float[] Dy) Inputs(in Conv2DGeometry g) => (
        Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1),
        Random((long)g.OutChannels * g.InChannels * 9, 2),
        Random((long)g.Batch * g.OutChannels * g.Positions, 6));

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesReference(Conv2DGeometry g)
    {
        var (x, w, _) = Inputs(g);
        var bias = Random(g.OutChannels, 3);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var expected = new float[outLen];
        var actual = Random(outLen, 4); // garbage that must be overwritten
        ReferenceConv2D.Forward(g, x, w, bias, expected);
        Winograd3x3.Forward(g, x, w, bias, actual, new float[Winograd3x3.WorkspaceLength(g)]);
        // |bias| + Σ|x||w| ≤ 1 + 9C (values in ±1).
        double bound = RelativeToMagnitude * (1 + g.Rows);
        for (int i = 0; i < outLen; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} at {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Filters transformed once beforehand give the same bits as those transformed on every call, bounds and all.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    public void FiltersTransformedBeforehandGiveTheSameOutput(Conv2DGeometry g)
    {
        var (x, w, _) = Inputs(g);
        var bias = Random(g.OutChannels, 3);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var expected = new float[outLen];
        var actual = Random(outLen, 4);
        var clamp = new ConvClamp(-0.5f, 0.75f);
        Winograd3x3.Forward(g, x, w, bias, expected, new float[Winograd3x3.WorkspaceLength(g)], default, clamp);
        var u = Winograd3x3.TransformFilters(g, w);
        Winograd3x3.Forward(g, x, w, bias, actual, new float[Winograd3x3.WorkspaceLength(g)], default, clamp, 0, u);
        for (int i = 0; i < outLen; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{g} at {i}: {expected[i]} vs {actual[i]}");
        var e = Assert.Throws<ArgumentException>(() => Winograd3x3.Forward(g, x, w, bias, actual, new float[Winograd3x3.WorkspaceLength(g)], default, clamp, 0, u.AsSpan(1)));
        Assert.Contains("Transformed filters", e.Message);
        // Packed once as well: each per-point GEMM sums its depth (at most one packed block here) in the same order.
        var packed = Winograd3x3.PackFilters(g, u);
        var viaPacked = Random(outLen, 5);
        Winograd3x3.Forward(g, x, w, bias, viaPacked, new float[Winograd3x3.WorkspaceLength(g)], default, clamp, 0, u, packed);
        for (int i = 0; i < outLen; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(viaPacked[i]), $"{g} packed at {i}: {expected[i]} vs {viaPacked[i]}");
        Assert.Throws<ArgumentException>(() => Winograd3x3.Forward(g, x, w, bias, viaPacked, new float[Winograd3x3.WorkspaceLength(g)], default, clamp, 0, default, packed));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void InputGradientMatchesReference(Conv2DGeometry g)
    {
        var (_, w, dy) = Inputs(g);
        // The kernel adds into what is there.
        var expected = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 7);
        var actual = (float[])expected.Clone();
        ReferenceConv2D.BackwardData(g, dy, w, expected);
        Winograd3x3.BackwardData(g, dy, w, actual, new float[Winograd3x3.BackwardWorkspaceLength(g)]);
        // The initial ±1 plus Σ|dy||w| ≤ 9M.
        double bound = RelativeToMagnitude * (1 + 9 * g.OutChannels);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} dx at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void InputGradientSetsDxWhenAskedTo(Conv2DGeometry g)
    {
        var (_, w, dy) = Inputs(g);
        var expected = new float[(long)g.Batch * g.InChannels * g.InHeight * g.InWidth];
        var actual = Random(expected.Length, 7); // garbage that must be overwritten, not added to
        ReferenceConv2D.BackwardData(g, dy, w, expected);
        Winograd3x3.BackwardData(g, dy, w, actual, new float[Winograd3x3.BackwardWorkspaceLength(g)], add: false);
        double bound = RelativeToMagnitude * (1 + 9 * g.OutChannels);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} dx at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void WeightGradientMatchesReference(Conv2DGeometry g)
    {
        var (x, _, dy) = Inputs(g);
        var expected = Random((long)g.OutChannels * g.InChannels * 9, 8);
        var actual = (float[])expected.Clone();
        ReferenceConv2D.BackwardWeight(g, x, dy, expected);
        Winograd3x3.BackwardWeight(g, x, dy, actual, new float[Winograd3x3.BackwardWorkspaceLength(g)]);
        // The initial ±1 plus Σ|dy||x| ≤ N·H·W.
        double bound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} dW at {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Few tiles (blocks shared by all threads) and many (a range of tiles per thread, several blocks each) at 2 threads.</summary>
    public static IEnumerable<object[]> Schedules() => new[]
    {
        new object[] { Same3x3(5, 24, 21, 19, 20), true },     // 150 tiles
        new object[] { Same3x3(3, 6, 130, 127, 5), false },    // 3 × 33 × 32 tiles: 2 threads × 7 blocks of ≤ 256
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void BothSchedulesMatchTheReferenceAndGiveTheSameResultOnOneThreadAndOnMany(Conv2DGeometry g, bool shared)
    {
        var (x, w, dy) = Inputs(g);
        var bias = Random(g.OutChannels, 3);
        int saved = Threading.Workers.MaxThreads;
        try
        {
            var results = new List<(float[] Y, float[] Dx, float[] Dw)>();
            foreach (int threads in new[] { 2, 1, 3 })
            {
                Threading.Workers.MaxThreads = threads;
                if (threads == 2) Assert.Equal(shared, Winograd3x3.SharesBlocks(Winograd3x3.Tiles(g)));
                var y = new float[dy.Length]; var dx = new float[x.Length]; var dw = new float[w.Length];
                Winograd3x3.Forward(g, x, w, bias, y, new float[Winograd3x3.WorkspaceLength(g)]);
                var ws = new float[Winograd3x3.BackwardWorkspaceLength(g)];
                Winograd3x3.BackwardData(g, dy, w, dx, ws);
                Winograd3x3.BackwardWeight(g, x, dy, dw, ws);
                results.Add((y, dx, dw));
            }
            var yRef = new float[dy.Length]; var dxRef = new float[x.Length]; var dwRef = new float[w.Length];
            ReferenceConv2D.Forward(g, x, w, bias, yRef);
            ReferenceConv2D.BackwardData(g, dy, w, dxRef);
            ReferenceConv2D.BackwardWeight(g, x, dy, dwRef);
            var (y2, dx2, dw2) = results[0];
            for (int i = 0; i < yRef.Length; i++) Assert.True(Math.Abs(yRef[i] - y2[i]) <= RelativeToMagnitude * (1 + g.Rows), $"y at {i}");
            for (int i = 0; i < dxRef.Length; i++) Assert.True(Math.Abs(dxRef[i] - dx2[i]) <= RelativeToMagnitude * (1 + 9 * g.OutChannels), $"dx at {i}");
            double weightBound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
            for (int i = 0; i < dwRef.Length; i++) Assert.True(Math.Abs(dwRef[i] - dw2[i]) <= weightBound, $"dW at {i}");
            // Each output is one tile's column of the 36 GEMMs and one inverse transform, however the tiles are split;
            // the weight gradient sums tiles in another order.
            foreach (var (y, dx, dw) in results.Skip(1))
            {
                Assert.Equal(y2, y);
                Assert.Equal(dx2, dx);
                for (int i = 0; i < dw.Length; i++) Assert.True(Math.Abs(dw2[i] - dw[i]) <= weightBound);
            }
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }

    [Fact]
    public void ConvolutionDispatchPicksWinogradExactlyForEligibleShapes()
    {
        Assert.True(Conv2D.UsesWinograd(Same3x3(32, 64, 56, 56, 64)));
        Assert.True(Conv2D.UsesWinograd(Same3x3(8, 512, 7, 7, 512)));   // 8 images × 4 tiles
        Assert.True(Conv2D.UsesWinograd(Same3x3(32, 8, 1, 1, 8)));     // 32 one-tile images
        // Fewer tiles than Conv2D.WinogradMinTiles over the batch: im2col (batch-1 ResNet-18's 7×7 and 14×14 layers).
        Assert.False(Conv2D.UsesWinograd(Same3x3(1, 512, 7, 7, 512)));
        Assert.False(Conv2D.UsesWinograd(Same3x3(1, 256, 14, 14, 256)));
        Assert.False(Conv2D.UsesWinograd(Same3x3(31, 8, 1, 1, 8)));
        // With filters transformed once (fixed weights), from Conv2D.WinogradMinTilesFixedWeights tiles when both channel
        // counts reach Conv2D.WinogradFewTilesMinChannels: batch-1 ResNet-18's 14×14 layers (16 tiles), not its 7×7 ones
        // (4) nor SqueezeNet's 13×13 expands (64 → 256).
        Assert.True(Conv2D.UsesWinograd(Same3x3(1, 256, 14, 14, 256), fixedWeights: true));
        Assert.True(Conv2D.UsesWinograd(Same3x3(1, 128, 13, 13, 128), fixedWeights: true));
        Assert.False(Conv2D.UsesWinograd(Same3x3(1, 64, 13, 13, 256), fixedWeights: true));
        Assert.False(Conv2D.UsesWinograd(Same3x3(1, 128, 13, 13, 127), fixedWeights: true));
        Assert.False(Conv2D.UsesWinograd(Same3x3(1, 512, 7, 7, 512), fixedWeights: true));
        Assert.False(Conv2D.UsesWinograd(Same3x3(15, 128, 1, 1, 128), fixedWeights: true));
        Assert.True(Conv2D.UsesWinograd(Same3x3(32, 8, 1, 1, 8), fixedWeights: true));
        Assert.False(Conv2D.UsesGemm(Same3x3(1, 256, 14, 14, 256), fixedWeights: true));
        Assert.True(Conv2D.UsesGemm(Same3x3(1, 256, 14, 14, 256)));
        // Stride 2, dilation 2, no padding, asymmetric padding, groups, depthwise, 5×5, 1×3, few channels.
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 1, 1, 2, 2, 1, 1, 1, 1, 1)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 64)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1)));
        Assert.False(Conv2D.UsesWinograd(new(2, 64, 56, 56, 64, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1)));
        Assert.False(Conv2D.UsesWinograd(Same3x3(2, 3, 56, 56, 64)));
        Assert.False(Conv2D.UsesWinograd(Same3x3(2, 64, 56, 56, 4)));
        // The weight gradient wants at least 16 of each.
        Assert.True(Conv2D.UsesWinogradWeight(Same3x3(32, 16, 55, 55, 64)));
        Assert.False(Conv2D.UsesWinogradWeight(Same3x3(32, 8, 56, 56, 8)));
        Assert.False(Conv2D.UsesWinogradWeight(new(2, 64, 56, 56, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)));
    }

    [Fact]
    public void ConvolutionWithFewChannelsRunsWinogradForwardAndIm2colWeightGradient()
    {
        var g = Same3x3(4, 8, 10, 9, 12);
        Assert.True(Conv2D.UsesWinograd(g));
        Assert.False(Conv2D.UsesWinogradWeight(g));
        var (x, w, dy) = Inputs(g);
        var ws = new float[Conv2D.BackwardWorkspaceLength(g)];
        var dx = new float[x.Length]; var dxWinograd = new float[x.Length];
        Conv2D.BackwardData(g, dy, w, dx, ws);
        Winograd3x3.BackwardData(g, dy, w, dxWinograd, new float[Winograd3x3.BackwardWorkspaceLength(g)]);
        Assert.Equal(dxWinograd, dx);
        var dw = new float[w.Length]; var dwRef = new float[w.Length];
        Conv2D.BackwardWeight(g, x, dy, dw, ws);
        ReferenceConv2D.BackwardWeight(g, x, dy, dwRef);
        double bound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
        for (int i = 0; i < dw.Length; i++) Assert.True(Math.Abs(dwRef[i] - dw[i]) <= bound, $"dW at {i}");
    }

    [Fact]
    public void ConvolutionRunsTheWinogradKernelOnEligibleShapes()
    {
        // Bit-equal to the Winograd kernel's own result, which differs from the exact (reference) result in the last bits.
        var eligible = Same3x3(4, 16, 10, 9, 20);
        var (x, w, dy) = Inputs(eligible);
        var viaConv = new float[dy.Length]; var viaWinograd = new float[dy.Length];
        Conv2D.Forward(eligible, x, w, default, viaConv, new float[Conv2D.WorkspaceLength(eligible)]);
        Winograd3x3.Forward(eligible, x, w, default, viaWinograd, new float[Winograd3x3.WorkspaceLength(eligible)]);
        Assert.Equal(viaWinograd, viaConv);
        var exact = new float[dy.Length];
        ReferenceConv2D.Forward(eligible, x, w, default, exact);
        Assert.NotEqual(exact, viaConv);
        var dxConv = new float[x.Length]; var dxWinograd = new float[x.Length];
        var dwConv = new float[w.Length]; var dwWinograd = new float[w.Length];
        var ws = new float[Conv2D.BackwardWorkspaceLength(eligible)];
        Conv2D.BackwardData(eligible, dy, w, dxConv, ws);
        Conv2D.BackwardWeight(eligible, x, dy, dwConv, ws);
        var wws = new float[Winograd3x3.BackwardWorkspaceLength(eligible)];
        Winograd3x3.BackwardData(eligible, dy, w, dxWinograd, wws);
        Winograd3x3.BackwardWeight(eligible, x, dy, dwWinograd, wws);
        Assert.Equal(dxWinograd, dxConv);
        Assert.Equal(dwWinograd, dwConv);
    }

    /// <summary>
    /// A geometry with fewer tiles than <see cref="Conv2D.WinogradMinTiles"/> but at least
    /// <see cref="Conv2D.WinogradMinTilesFixedWeights"/> runs Winograd when given transformed filters (bit-equal to the
    /// kernel's own result, within its tolerance of the reference) and im2col and GEMM without them.
    /// </summary>
    [Fact]
    public void TransformedFiltersTakeWinogradFromFewerTiles()
    {
        var g = Same3x3(1, 128, 13, 13, 128);
        var (x, w, _) = Inputs(g);
        var bias = Random(g.OutChannels, 3);
        var u = Winograd3x3.TransformFilters(g, w);
        long outLen = (long)g.OutChannels * g.Positions;
        var viaConv = new float[outLen]; var viaWinograd = new float[outLen]; var viaGemm = new float[outLen]; var exact = new float[outLen];
        Conv2D.Forward(g, x, w, bias, viaConv, new float[Conv2D.WorkspaceLength(g, fixedWeights: true)], winogradFilters: u);
        Winograd3x3.Forward(g, x, w, bias, viaWinograd, new float[Winograd3x3.WorkspaceLength(g)], default, null, 0, u);
        Assert.Equal(viaWinograd, viaConv);
        Conv2D.Forward(g, x, w, bias, viaGemm, new float[Conv2D.WorkspaceLength(g)]);
        Assert.NotEqual(viaWinograd, viaGemm);
        ReferenceConv2D.Forward(g, x, w, bias, exact);
        double bound = RelativeToMagnitude * (1 + g.Rows);
        for (int i = 0; i < outLen; i++) Assert.True(Math.Abs(exact[i] - viaConv[i]) <= bound, $"at {i}: expected {exact[i]}, got {viaConv[i]}");
    }

    [Fact]
    public void KernelRefusesOtherGeometries()
    {
        var strided = new Conv2DGeometry(1, 8, 8, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);
        Assert.Throws<ArgumentException>(() => Winograd3x3.Forward(strided, new float[512], new float[576], default, new float[128], new float[1 << 16]));
    }
}
