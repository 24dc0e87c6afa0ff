using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Convolution kernels (im2col + GEMM, pointwise, depthwise) against the plain loop on many geometries.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class Conv2DTests
{
    /// <summary>Error relative to Σ|x·w| of the output element (float32 summation in another order, see GemmTests).</summary>
    const double RelativeToMagnitude = 2e-5;

    public static IEnumerable<object[]> Geometries()
    {
        var r = new Random(11);
        var list = new List<Conv2DGeometry>
        {
            new(1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
            new(3, 8, 6, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),      // pointwise
            new(2, 6, 9, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6),      // depthwise
            new(2, 6, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6),      // depthwise, strided
            new(2, 5, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5),      // depthwise, MobileNet's 7×7 plane
            new(1, 4, 10, 9, 4, 3, 2, 1, 1, 2, 3, 2, 0, 1, 3, 4),     // depthwise, dilated, asymmetric pads
            new(3, 3, 6, 11, 3, 2, 3, 1, 1, 1, 1, 0, 0, 0, 0, 3),     // depthwise, no padding
            new(2, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16), // depthwise, MobileNet's 28×28 plane (full vectors)
            new(3, 7, 29, 23, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 7),    // depthwise, strided, odd sizes
            new(2, 5, 17, 19, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 5),    // depthwise 5×5 (EfficientNet)
            new(2, 4, 12, 13, 4, 3, 3, 1, 1, 1, 1, 2, 0, 1, 2, 4),    // depthwise, pads up to k − 1, asymmetric
            new(1, 3, 10, 10, 3, 3, 3, 1, 1, 1, 1, 3, 1, 1, 0, 3),    // depthwise, a pad beyond k − 1
            new(1, 4, 11, 10, 6, 3, 2, 2, 3, 2, 1, 2, 0, 1, 3, 2),    // grouped, asymmetric
            new(2, 3, 5, 5, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1),      // kernel = image
            new(1, 2, 8, 8, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1),      // 1×1 strided (not pointwise)
            new(2, 8, 40, 33, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // 1320 positions: unfolded in blocks of 256
            new(1, 6, 61, 29, 3, 3, 3, 1, 1, 1, 2, 1, 0, 2, 1, 1),    // blocks ending mid output row, dilated
            // Few positions per image: images side by side, in chunks that do not divide the batch.
            new(11, 5, 20, 15, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   // 300 positions: 4 images per GEMM
            new(7, 6, 29, 27, 4, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1, 2),    // grouped, strided, asymmetric: 405 positions, 3 per GEMM
            new(9, 6, 13, 17, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3),    // pointwise, grouped: 221 positions, 5 per GEMM
            new(5, 4, 21, 21, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1),    // 1×1 strided: 121 positions
            new(6, 3, 9, 9, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1),      // dilated, 81 positions: the whole batch in one GEMM
            // Side by side with 512+ rows: the chunk's columns go in blocks of 256 that end and start inside images.
            new(5, 64, 15, 13, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
            new(4, 120, 29, 11, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 2),  // grouped, strided
            new(9, 520, 6, 7, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),    // pointwise
            // Many positions and rows: one image at a time in column blocks of 256 (backward too), the last one ending mid row.
            new(2, 64, 33, 35, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
            new(3, 60, 70, 64, 2, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, 1),   // strided, asymmetric pads
            // Stride-2 rows long enough for the vector unfolding, reading up to the plane's last element.
            new(2, 3, 9, 75, 4, 3, 5, 1, 2, 1, 1, 1, 2, 1, 2, 1),
            new(1, 2, 7, 68, 3, 2, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1),
        };
        for (int i = 0; i < 25; i++)
        {
            int groups = r.Next(1, 4), cg = r.Next(1, 4), mg = r.Next(1, 4);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 4), sw = r.Next(1, 4), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int h = r.Next(kh * dh, 14), w = r.Next(kw * dw, 14);
            list.Add(new(r.Next(1, 4), groups * cg, h, w, groups * mg, kh, kw, sh, sw, dh, dw, r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), groups));
        }
        return list.Select(g => new object[] { g });
    }

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>x, w and bias of the forward tests: values in ±1, seeds 1, 2 and 3.</summary>
    static (float[] X, float[] W, float[] Bias) Inputs(Conv2DGeometry g) =>
        (Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1),
         Random((long)g.OutChannels * g.GroupChannels * g.KernelH * g.KernelW, 2), Random(g.OutChannels, 3));

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesReference(Conv2DGeometry g)
    {
        var (x, w, bias) = Inputs(g);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var expected = new float[outLen]; var actual = new float[outLen];
        ReferenceConv2D.Forward(g, x, w, bias, expected);
        Conv2D.Forward(g, x, w, bias, actual, new float[Conv2D.WorkspaceLength(g)]);
        // Magnitude bound: |bias| + Σ|x||w| ≤ 1 + rows (all values in ±1).
        double bound = RelativeToMagnitude * (1 + g.Rows);
        for (int i = 0; i < outLen; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} at {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Geometries of the kernels a fused convolution finishes in: every one above plus Winograd and the few-channel stem.</summary>
    public static IEnumerable<object[]> FinishGeometries() => Geometries().Concat(new Conv2DGeometry[]
    {
        new(2, 16, 24, 20, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     // Winograd
        new(2, 3, 31, 29, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),      // few channels (a stem)
        new(1, 40, 50, 50, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),     // pointwise, one GEMM split across threads
        new(1, 300, 17, 17, 30, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),    // depth beyond one packed block (KC = 256)
        new(1, 40, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),       // few columns (49, packed): 32-row strips, an 8-row edge, two depth blocks
        new(1, 300, 5, 6, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),      // few columns (30): groups of 8, 4 and 2, a one-row strip
        new(2, 264, 7, 7, 96, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),      // few columns over two images side by side (98)
    }.Select(g => new object[] { g }));

    [Theory]
    [MemberData(nameof(FinishGeometries))]
    public void ResidualAndBoundsInTheKernelEqualTheSeparatePasses(Conv2DGeometry g)
    {
        var (clean, w, bias) = Inputs(g);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var residual = Random(outLen, 4);
        residual[outLen / 2] = float.NaN; // NaN stays NaN through the bounds, as in Relu's and Clip's own kernels
        // A NaN in the input reaches the bounds of every filter's outputs whose window holds it, without a residual
        // too (the GEMM's tiles take another store there).
        var withNaN = (float[])clean.Clone();
        withNaN[withNaN.Length / 3] = float.NaN;
        foreach (var x in new[] { clean, withNaN })
        foreach (var clamp in new ConvClamp?[] { null, ConvClamp.Relu, new ConvClamp(-0.25f, 0.5f), new ConvClamp(-0f, 0f) })
            foreach (bool withResidual in new[] { false, true })
                foreach (bool packed in new[] { false, true })
                {
                    if (clamp == null && !withResidual) continue;
                    var packs = packed && Conv2D.UsesGemm(g) ? Conv2D.PackWeights(g, w) : null;
                    var expected = new float[outLen];
                    Conv2D.Forward(g, x, w, bias, expected, new float[Conv2D.WorkspaceLength(g)], null, packs);
                    if (withResidual) System.Numerics.Tensors.TensorPrimitives.Add(expected, residual, expected);
                    if (clamp is { } c)
                    {
                        if (c.HasMin) System.Numerics.Tensors.TensorPrimitives.Max(expected, c.Min, expected);
                        if (c.HasMax) System.Numerics.Tensors.TensorPrimitives.Min(expected, c.Max, expected);
                    }
                    var actual = Random(outLen, 5); // overwritten
                    Conv2D.Forward(g, x, w, bias, actual, new float[Conv2D.WorkspaceLength(g)], null, packs, withResidual ? residual : default, clamp);
                    for (int i = 0; i < outLen; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                            $"{g} clamp {clamp} residual {withResidual} packed {packed} at {i}: expected {expected[i]}, got {actual[i]}");
                }
    }

    [Fact]
    public void TheFinishGeometriesReachWinogradAndTheFewChannelKernel()
    {
        var all = FinishGeometries().Select(o => (Conv2DGeometry)o[0]).ToArray();
        Assert.Contains(all, g => Conv2D.UsesWinograd(g));
        Assert.Contains(all, g => FewChannelConv2D.Applies(g));
        // With packed weights on AVX-512, GEMMs of few columns take the row-vector kernels.
        if (Gemm.Path.StartsWith("avx512", StringComparison.Ordinal))
            Assert.Contains(all, g => Conv2D.UsesGemm(g) && Gemm.TakesFewColumns(g.OutChannels, g.Positions * Conv2D.ImagesPerGemm(g), g.Rows) && g.Batch > 1);
    }

    /// <summary>
    /// Written into a channel range of a wider output (a Concat's, images further apart): the same bits as the dense
    /// output at every position of the range, with and without bounds and packed weights, with an epilogue seeing each
    /// element of the range exactly once; the channels around the range are left untouched.
    /// </summary>
    [Theory]
    [MemberData(nameof(StridedGeometries))]
    public void AStridedOutputHoldsTheDenseOutputAndNothingElseIsWritten(Conv2DGeometry g)
    {
        var (x, w, bias) = Inputs(g);
        long dense = (long)g.OutChannels * g.Positions;
        int before = 2 * g.Positions + 3, after = g.Positions + 5;   // the channels of other parts around this one
        long stride = before + dense + after;
        foreach (var clamp in new ConvClamp?[] { null, new ConvClamp(-0.25f, 0.5f) })
            foreach (bool packed in new[] { false, true })
                foreach (bool epilogue in new[] { false, true })
                {
                    var packs = packed && Conv2D.UsesGemm(g) ? Conv2D.PackWeights(g, w) : null;
                    var expected = new float[g.Batch * dense];
                    Conv2D.Forward(g, x, w, bias, expected, new float[Conv2D.WorkspaceLength(g)], null, packs, default, clamp);
                    var y = new float[g.Batch * stride];
                    Array.Fill(y, float.NaN);
                    var seen = new int[y.Length - before];
                    ConvEpilogue? count = epilogue ? (start, length) => { lock (seen) for (int i = start; i < start + length; i++) seen[i]++; } : null;
                    Conv2D.Forward(g, x, w, bias, y.AsSpan(before), new float[Conv2D.WorkspaceLength(g)], count, packs, default, clamp, stride);
                    for (int n = 0; n < g.Batch; n++)
                        for (long i = 0; i < stride; i++)
                        {
                            float a = y[n * stride + i];
                            long inRange = i - before;
                            if (inRange < 0 || inRange >= dense)
                                Assert.True(float.IsNaN(a), $"{g}: image {n}, float {i} outside the range was written ({a})");
                            else
                            {
                                float e = expected[n * dense + inRange];
                                Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(a),
                                    $"{g} clamp {clamp} packed {packed}: image {n}, element {inRange}: dense {e}, strided {a}");
                                if (epilogue) Assert.Equal(1, seen[n * stride + inRange]);
                            }
                        }
                    if (epilogue) Assert.Equal(g.Batch * dense, seen.Sum());
                }
    }

    /// <summary>The geometries above whose kernels write strided outputs: all but the depthwise and few-channel ones.</summary>
    public static IEnumerable<object[]> StridedGeometries() => FinishGeometries().Where(o => Conv2D.WritesStrided((Conv2DGeometry)o[0]));

    [Fact]
    public void TheStridedGeometriesReachWinogradTheBatchedGemmAndOneGemmPerImage()
    {
        var all = StridedGeometries().Select(o => (Conv2DGeometry)o[0]).ToArray();
        Assert.Contains(all, g => Conv2D.UsesWinograd(g));
        Assert.Contains(all, g => Conv2D.UsesGemm(g) && Conv2D.ImagesPerGemm(g) > 1);
        Assert.Contains(all, g => Conv2D.UsesGemm(g) && Conv2D.ImagesPerGemm(g) == 1 && g.IsPointwise);
        Assert.Contains(all, g => Conv2D.UsesGemm(g) && Conv2D.ImagesPerGemm(g) == 1 && !g.IsPointwise);
        Assert.DoesNotContain(all, g => g.IsDepthwise || FewChannelConv2D.Applies(g));
    }

    [Fact]
    public void AStridedOutputIsRefusedWhereTheKernelWritesDenseOnlyOrAResidualIsAdded()
    {
        var depthwise = new Conv2DGeometry(2, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4);
        Assert.False(Conv2D.WritesStrided(depthwise));
        var e = Assert.Throws<ArgumentException>(() => Conv2D.Forward(depthwise, new float[288], new float[36], default, new float[600], default, yImageStride: 300));
        Assert.Contains("dense", e.Message);
        var g = new Conv2DGeometry(2, 2, 5, 5, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
        e = Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, new float[100], new float[6], default, new float[200], default, null, null, new float[150], yImageStride: 100));
        Assert.Contains("residual", e.Message);
        // Two images of 75 floats 100 apart need 175.
        e = Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, new float[100], new float[6], default, new float[174], default, yImageStride: 100));
        Assert.Contains("175", e.Message);
        e = Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, new float[100], new float[6], default, new float[200], default, yImageStride: 50));
        Assert.Contains("50 apart", e.Message);
    }

    [Fact]
    public void AResidualShorterThanTheOutputIsRefused()
    {
        var g = new Conv2DGeometry(1, 2, 5, 5, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
        var e = Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, new float[50], new float[6], default, new float[75], default, null, null, new float[74]));
        Assert.Contains("74", e.Message);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Col2ImIsTheAdjointOfIm2Col(Conv2DGeometry g)
    {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for any x and c.
        int plane = g.InHeight * g.InWidth;
        var x = Random((long)g.GroupChannels * plane, 4);
        var c = Random((long)g.Rows * g.Positions, 5);
        var col = new float[c.Length];
        Conv2D.Im2Col(g, x, col);
        var back = new float[x.Length];
        Conv2D.Col2ImAdd(g, c, back);
        double left = 0, right = 0;
        for (int i = 0; i < c.Length; i++) left += (double)col[i] * c[i];
        for (int i = 0; i < x.Length; i++) right += (double)x[i] * back[i];
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"{left} vs {right}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void BackwardMatchesReference(Conv2DGeometry g)
    {
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.GroupChannels * g.KernelH * g.KernelW, 2);
        var dy = Random((long)g.Batch * g.OutChannels * g.Positions, 6);
        var workspace = new float[Conv2D.BackwardWorkspaceLength(g)];
        // The kernels add into what is there.
        var dxExpected = Random(x.Length, 7); var dxActual = (float[])dxExpected.Clone();
        var dwExpected = Random(w.Length, 8); var dwActual = (float[])dwExpected.Clone();
        var dbExpected = Random(g.OutChannels, 9); var dbActual = (float[])dbExpected.Clone();
        ReferenceConv2D.BackwardData(g, dy, w, dxExpected);
        Conv2D.BackwardData(g, dy, w, dxActual, workspace);
        ReferenceConv2D.BackwardWeight(g, x, dy, dwExpected);
        Conv2D.BackwardWeight(g, x, dy, dwActual, workspace);
        ReferenceConv2D.BackwardBias(g, dy, dbExpected);
        Conv2D.BackwardBias(g, dy, dbActual);
        // dx sums at most M/groups·KH·KW products, dW and dB at most N·positions (values in ±1), plus the initial ±1.
        double dataBound = RelativeToMagnitude * (1 + g.GroupFilters * g.KernelH * g.KernelW);
        double weightBound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(dxExpected[i] - dxActual[i]) <= dataBound, $"{g} dx at {i}: expected {dxExpected[i]}, got {dxActual[i]}");
        for (int i = 0; i < w.Length; i++)
            Assert.True(Math.Abs(dwExpected[i] - dwActual[i]) <= weightBound, $"{g} dW at {i}: expected {dwExpected[i]}, got {dwActual[i]}");
        for (int i = 0; i < g.OutChannels; i++)
            Assert.True(Math.Abs(dbExpected[i] - dbActual[i]) <= weightBound, $"{g} dB at {i}: expected {dbExpected[i]}, got {dbActual[i]}");

        // Set rather than added: whatever dx held (NaN here) is replaced by the gradient alone.
        var dxFromZero = new float[x.Length];
        ReferenceConv2D.BackwardData(g, dy, w, dxFromZero);
        var dxSet = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Conv2D.BackwardData(g, dy, w, dxSet, workspace, add: false);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(dxFromZero[i] - dxSet[i]) <= dataBound, $"{g} set dx at {i}: expected {dxFromZero[i]}, got {dxSet[i]}");
    }

    [Fact]
    public void SmallImagesAreBatchedIntoChunksThatDoNotDivideTheBatch()
    {
        // The geometries above that exercise the side-by-side path really take it, in several chunks.
        Assert.Equal(4, Conv2D.ImagesPerGemm(new(11, 5, 20, 15, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)));
        Assert.Equal(3, Conv2D.ImagesPerGemm(new(7, 6, 29, 27, 4, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1, 2)));
        Assert.Equal(5, Conv2D.ImagesPerGemm(new(9, 6, 13, 17, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3)));
        // Large images and single images keep one GEMM per image.
        Assert.Equal(1, Conv2D.ImagesPerGemm(new(4, 8, 40, 33, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)));
        Assert.Equal(1, Conv2D.ImagesPerGemm(new(1, 5, 20, 15, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)));
    }

    [Fact]
    public void BatchedForwardAndBackwardAreTheSameOnOneThreadAndOnMany()
    {
        var g = new Conv2DGeometry(11, 5, 20, 15, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.GroupChannels * 9, 2);
        var dy = Random((long)g.Batch * g.OutChannels * g.Positions, 3);
        int saved = Threading.Workers.MaxThreads;
        try
        {
            var results = new List<(float[] Y, float[] Dx, float[] Dw)>();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Threading.Workers.MaxThreads = threads;
                var y = new float[dy.Length]; var dx = new float[x.Length]; var dw = new float[w.Length];
                Conv2D.Forward(g, x, w, default, y, new float[Conv2D.WorkspaceLength(g)]);
                var ws = new float[Conv2D.BackwardWorkspaceLength(g)];
                Conv2D.BackwardData(g, dy, w, dx, ws);
                Conv2D.BackwardWeight(g, x, dy, dw, ws);
                results.Add((y, dx, dw));
            }
            double bound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
            foreach (var (y, dx, dw) in results.Skip(1))
            {
                Assert.Equal(results[0].Y, y);
                Assert.Equal(results[0].Dx, dx);
                for (int i = 0; i < dw.Length; i++) Assert.True(Math.Abs(results[0].Dw[i] - dw[i]) <= bound);
            }
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }

    [Theory]
    [InlineData(11, 5, 20, 15)]   // images side by side in one GEMM
    [InlineData(3, 3, 40, 40)]    // one GEMM per image, columns blocked
    public void AWorkspaceSizedForFewerThreadsIsRefusedNotOverrun(int batch, int channels, int height, int width)
    {
        var g = new Conv2DGeometry(batch, channels, height, width, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Assert.False(Conv2D.UsesWinograd(g));
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.GroupChannels * 9, 2);
        var dy = Random((long)g.Batch * g.OutChannels * g.Positions, 3);
        var y = new float[dy.Length]; var dx = new float[x.Length]; var dw = new float[w.Length];
        int saved = Threading.Workers.MaxThreads;
        try
        {
            Threading.Workers.MaxThreads = 1;
            var forward = new float[Conv2D.WorkspaceLength(g)];
            var backward = new float[Conv2D.BackwardWorkspaceLength(g)];
            Threading.Workers.MaxThreads = 3;
            Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, x, w, default, y, forward));
            Assert.Throws<ArgumentException>(() => Conv2D.BackwardData(g, dy, w, dx, backward));
            Assert.Throws<ArgumentException>(() => Conv2D.BackwardWeight(g, x, dy, dw, backward));
            // Sized for the setting in force, the same calls run.
            Conv2D.Forward(g, x, w, default, y, new float[Conv2D.WorkspaceLength(g)]);
            var ws = new float[Conv2D.BackwardWorkspaceLength(g)];
            Conv2D.BackwardData(g, dy, w, dx, ws);
            Conv2D.BackwardWeight(g, x, dy, dw, ws);
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }

    [Fact]
    public void BackwardIsTheSameOnOneThreadAndOnMany()
    {
        var g = new Conv2DGeometry(5, 6, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2);
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.GroupChannels * 9, 2);
        var dy = Random((long)g.Batch * g.OutChannels * g.Positions, 3);
        int saved = Threading.Workers.MaxThreads;
        try
        {
            var results = new List<(float[] Dx, float[] Dw)>();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Threading.Workers.MaxThreads = threads;
                var dx = new float[x.Length]; var dw = new float[w.Length];
                var ws = new float[Conv2D.BackwardWorkspaceLength(g)];
                Conv2D.BackwardData(g, dy, w, dx, ws);
                Conv2D.BackwardWeight(g, x, dy, dw, ws);
                results.Add((dx, dw));
            }
            double bound = RelativeToMagnitude * (1 + g.Batch * g.Positions);
            foreach (var (dx, dw) in results.Skip(1))
            {
                Assert.Equal(results[0].Dx, dx);
                for (int i = 0; i < dw.Length; i++) Assert.True(Math.Abs(results[0].Dw[i] - dw[i]) <= bound);
            }
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void FoldingRangesOfPositionsBackAddsUpToTheWholeFolding(Conv2DGeometry g)
    {
        var c = Random((long)g.Rows * g.Positions, 12);
        var whole = Random((long)g.GroupChannels * g.InHeight * g.InWidth, 13);
        var parts = (float[])whole.Clone();
        Conv2D.Col2ImAdd(g, c, whole);
        // A partition of [0, P) into ranges of one position, a third, a half and the rest.
        var cuts = new[] { 0, 1, g.Positions / 3, g.Positions / 3 + g.Positions / 2, g.Positions }
            .Select(q => Math.Min(q, g.Positions)).Distinct().Order().ToArray();
        for (int s = 0; s + 1 < cuts.Length; s++)
        {
            int q0 = cuts[s], q1 = cuts[s + 1], width = q1 - q0;
            var part = new float[(long)g.Rows * width];
            for (int r = 0; r < g.Rows; r++)
                Array.Copy(c, (long)r * g.Positions + q0, part, (long)r * width, width);
            Conv2D.Col2ImAddRange(g, part, parts, q0, q1);
        }
        // Each image element sums the same terms in another grouping: within a few ulps of the sum of magnitudes.
        double bound = RelativeToMagnitude * (1 + g.KernelH * g.KernelW);
        for (int i = 0; i < whole.Length; i++)
            Assert.True(Math.Abs(whole[i] - parts[i]) <= bound, $"{g} at {i}: {whole[i]} vs {parts[i]}");
    }

    /// <summary>On AVX-512 the whole unfoldings of the narrow planes among the geometries take the masked row copies, their parts the segment copies: the test above compares the two.</summary>
    [Fact]
    public void SomeUnfoldingsTakeTheNarrowRowPath()
    {
        var narrow = Geometries().Select(o => (Conv2DGeometry)o[0])
            .Where(g => !g.IsPointwise && Conv2D.NarrowRows(g, 0, g.Positions, g.GroupChannels * g.InHeight * g.InWidth, g.Rows * g.Positions, g.Positions)).ToArray();
        // Without AVX-512 (the CI's second and third kernel runs) every unfolding takes the segment copies.
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) { Assert.Empty(narrow); return; }
        Assert.True(narrow.Length >= 3, $"{narrow.Length} geometries take the narrow unfolding");
        Assert.Contains(narrow, g => g.PadLeft > 0 && g.StrideH > 1);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void UnfoldingARangeOfPositionsEqualsTheWholeUnfoldingsColumns(Conv2DGeometry g)
    {
        var x = Random((long)g.GroupChannels * g.InHeight * g.InWidth, 10);
        var whole = new float[(long)g.Rows * g.Positions];
        Conv2D.Im2Col(g, x, whole);
        foreach (var (q0, q1) in new[] { (0, g.Positions), (0, 1), (g.Positions / 3, g.Positions / 3 + Math.Max(1, g.Positions / 2)), (g.Positions - 1, g.Positions) })
        {
            int width = q1 - q0;
            var part = Random((long)g.Rows * width, 11); // garbage that must be overwritten
            Conv2D.Im2ColRange(g, x, part, q0, q1);
            for (int r = 0; r < g.Rows; r++)
                for (int q = q0; q < q1; q++)
                    Assert.Equal(whole[(long)r * g.Positions + q], part[(long)r * width + q - q0]);
        }
    }
}
