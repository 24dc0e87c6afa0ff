using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// 2-D convolution kernels. Forward: pointwise (1×1) convolutions are one GEMM per image and group on the input as it
/// is; depthwise convolutions run a direct kernel; the rest unfold each image (im2col) into a per-thread workspace and
/// call the packed GEMM. Images are spread across threads; with a single image the GEMM itself is parallel.
/// Images with few output positions (ResNet's 14×14 and 7×7 stages) would give each GEMM only a sliver of columns, so
/// there several images are unfolded side by side and one GEMM covers them all (N = images × positions) in the
/// forward, input-gradient and weight-gradient passes alike (<see cref="ImagesPerGemm"/>).
/// 3×3, stride-1, pad-1 convolutions with enough channels take Winograd F(4×4, 3×3) instead (<see cref="UsesWinograd"/>
/// for forward and input gradient, <see cref="UsesWinogradWeight"/> for the weight gradient, <see cref="Winograd3x3"/>).
/// <see cref="Reference.ReferenceConv2D"/> is the plain loop they must equal.
/// </summary>
public static class Conv2D
{
    static int Threads(in Conv2DGeometry g) => Math.Max(1, Math.Min(Workers.MaxThreads, g.Batch));

    /// <summary>
    /// Calls image(n, thread, gemmThreads) for every image: contiguous ranges of images, one per thread (each thread
    /// uses its own scratch, indexed by thread), GEMMs single-threaded; with one thread, the GEMMs use every core.
    /// </summary>
    static void ForImages(in Conv2DGeometry g, int threads, Action<int, int, int> image)
    {
        int batch = g.Batch;
        if (threads <= 1)
        {
            for (int n = 0; n < batch; n++) image(n, 0, Workers.MaxThreads);
            return;
        }
        Workers.Run(threads, t =>
        {
            int n0 = (int)((long)batch * t / threads), n1 = (int)((long)batch * (t + 1) / threads);
            for (int n = n0; n < n1; n++) image(n, t, 1);
        });
    }

    /// <summary>
    /// Calls chunk(n0, count, thread, gemmThreads) over the batch: each thread's contiguous range of images (as
    /// <see cref="ForImages"/>) is cut into near-equal chunks of at most <paramref name="perChunk"/> images.
    /// </summary>
    static void ForChunks(in Conv2DGeometry g, int threads, int perChunk, Action<int, int, int, int> chunk)
    {
        int batch = g.Batch;
        void Range(int n0, int n1, int t, int gemmThreads)
        {
            int count = n1 - n0, chunks = (count + perChunk - 1) / perChunk;
            for (int c = 0; c < chunks; c++)
            {
                int a = n0 + (int)((long)count * c / chunks), b = n0 + (int)((long)count * (c + 1) / chunks);
                chunk(a, b - a, t, gemmThreads);
            }
        }
        if (threads <= 1) { Range(0, batch, 0, Workers.MaxThreads); return; }
        Workers.Run(threads, t =>
            Range((int)((long)batch * t / threads), (int)((long)batch * (t + 1) / threads), t, 1));
    }

    /// <summary>GEMM columns wanted at least: images with fewer output positions are unfolded side by side.</summary>
    const int BatchedColumns = 1024;

    /// <summary>Most scratch floats per thread for a chunk of images side by side (unfolded rows plus one group of output rows).</summary>
    const long BatchedScratchFloats = 4L << 20;

    /// <summary>
    /// Images per GEMM: 1 (one GEMM per image, the columns blocked within it) when an image alone has
    /// <see cref="BatchedColumns"/> output positions or the batch is one image; otherwise enough images for that many
    /// columns, at most the batch and at most what fits <see cref="BatchedScratchFloats"/>. Depends on the geometry
    /// only, never on the thread count, so results do not change with it.
    /// </summary>
    public static int ImagesPerGemm(in Conv2DGeometry g)
    {
        if (g.IsDepthwise || g.Batch < 2 || g.Positions >= BatchedColumns) return 1;
        int want = (BatchedColumns + g.Positions - 1) / g.Positions;
        int fit = (int)Math.Max(1, BatchedScratchFloats / ((long)(g.Rows + g.GroupFilters) * g.Positions));
        return Math.Max(1, Math.Min(g.Batch, Math.Min(want, fit)));
    }

    /// <summary>Scratch floats per thread in the batched mode: unfolded rows and a group of output (or output-gradient) rows for a chunk.</summary>
    static long BatchedScratch(in Conv2DGeometry g) => (long)(g.Rows + g.GroupFilters) * ImagesPerGemm(g) * g.Positions;

    /// <summary>Bytes of unfolded columns a forward GEMM works on at once: a block that stays in L2 while it is packed.</summary>
    const int ColumnBlockBytes = 512 * 1024;

    /// <summary>Fewest positions per forward GEMM: narrower blocks would repack the weights too often for too little work.</summary>
    const int MinColumnBlock = 256;

    /// <summary>Output positions unfolded per forward GEMM: a multiple of 32 whose column block fits <see cref="ColumnBlockBytes"/> (at least <see cref="MinColumnBlock"/>), or the whole image.</summary>
    public static int ColumnBlock(in Conv2DGeometry g) =>
        Math.Min(g.Positions, Math.Max(MinColumnBlock, ColumnBlockBytes / sizeof(float) / Math.Max(1, g.Rows) / 32 * 32));

    /// <summary>
    /// Fewest input and output channels for the Winograd forward and input gradient: its transforms cost about as much
    /// per channel as a tile's GEMMs save per pair of channels (measured even at 8 and 8 channels, 56×56, batch 32).
    /// </summary>
    public const int WinogradMinChannels = 8;

    /// <summary>
    /// Fewest input and output channels for the Winograd weight gradient, which transforms both x and dy and whose
    /// per-point GEMMs (filters × channels) are tiny with few of either: at 8 and 8 channels im2col is 20 % faster,
    /// at 16 and 16 Winograd is.
    /// </summary>
    public const int WinogradWeightMinChannels = 16;

    /// <summary>
    /// Fewest 4×4 output tiles (over the whole batch) for the Winograd forward and input gradient: each of its 36
    /// per-point GEMMs reads a transformed filter matrix (filters × channels) once for all tiles, so with few tiles it
    /// streams 36 such matrices for little work. At batch 1, ResNet-18's 7×7 planes (4 tiles) ran at 18 GFLOP/s and its
    /// 14×14 ones (16 tiles) at 85, against 260 for its 28×28 ones (49 tiles).
    /// </summary>
    public const int WinogradMinTiles = 32;

    /// <summary>
    /// Fewest 4×4 output tiles for the Winograd forward when its filters are transformed once for fixed weights
    /// (<see cref="Winograd3x3.TransformFilters"/>, passed to <see cref="Forward"/>) and there are at least
    /// <see cref="WinogradFewTilesMinChannels"/> input and output channels: without the per-call filter transform it
    /// wins with fewer tiles where the GEMMs are large enough to pay for streaming the transformed filters, four times
    /// the size of the weights. One thread, 16 tiles (batch 1), caches flushed before each call as in a model: ResNet-18's
    /// 14×14 256→256 layer 2.1 ms against 2.8 through im2col and GEMM (hot: 1.4–1.7 against 2.6); SqueezeNet's 13×13
    /// 64→256 0.59 against 0.58 and 48→192 0.44 against 0.35 (hot caches favoured Winograd on both); with 4 tiles
    /// (ResNet-18's 7×7 512→512) 7.1 against 3.4.
    /// </summary>
    public const int WinogradMinTilesFixedWeights = 16;

    /// <summary>Fewest input and output channels for Winograd from <see cref="WinogradMinTilesFixedWeights"/> tiles (see there).</summary>
    public const int WinogradFewTilesMinChannels = 128;

    /// <summary>4×4 output tiles of the whole batch.</summary>
    static long WinogradTiles(in Conv2DGeometry g) => (long)g.Batch * ((g.OutHeight + 3) / 4) * ((g.OutWidth + 3) / 4);

    /// <summary>
    /// Whether this geometry's forward and input gradient run Winograd F(4×4, 3×3) rather than im2col and GEMM; with
    /// <paramref name="fixedWeights"/>, whether the forward does when given filters transformed once (from fewer tiles
    /// with many channels, <see cref="WinogradMinTilesFixedWeights"/>).
    /// </summary>
    public static bool UsesWinograd(in Conv2DGeometry g, bool fixedWeights = false) =>
        Winograd3x3.Applies(g) && g.InChannels >= WinogradMinChannels && g.OutChannels >= WinogradMinChannels
        && (WinogradTiles(g) >= WinogradMinTiles || (fixedWeights && WinogradTiles(g) >= WinogradMinTilesFixedWeights
            && g.InChannels >= WinogradFewTilesMinChannels && g.OutChannels >= WinogradFewTilesMinChannels));

    /// <summary>Whether this geometry's weight gradient runs Winograd F(4×4, 3×3).</summary>
    public static bool UsesWinogradWeight(in Conv2DGeometry g) =>
        Winograd3x3.Applies(g) && g.InChannels >= WinogradWeightMinChannels && g.OutChannels >= WinogradWeightMinChannels;

    /// <summary>
    /// Scratch floats <see cref="Forward"/> needs: one unfolded column block per thread (none for pointwise and
    /// depthwise); with <paramref name="fixedWeights"/>, for a call given transformed filters (see <see cref="UsesWinograd"/>).
    /// </summary>
    public static long WorkspaceLength(in Conv2DGeometry g, bool fixedWeights = false) =>
        UsesWinograd(g, fixedWeights) ? Winograd3x3.WorkspaceLength(g)
        : FewChannelConv2D.Applies(g) ? FewChannelConv2D.WorkspaceLength(g, FewChannelConv2D.Threads(g))
        : ForwardScratch(g, Threads(g));

    static long ForwardScratch(in Conv2DGeometry g, int threads) =>
        ImagesPerGemm(g) > 1 ? BatchedScratch(g) * threads
        : g.IsPointwise || g.IsDepthwise ? 0 : (long)g.Rows * ColumnBlock(g) * threads;

    /// <summary>
    /// Refuses a workspace smaller than a call with <paramref name="threads"/> threads needs (sized while the thread
    /// setting was lower, say): the kernels index per-thread scratch with raw pointers and must never write past it.
    /// </summary>
    static void Require(ReadOnlySpan<float> workspace, long need, int threads)
    {
        if (workspace.Length < need)
            throw new ArgumentException($"The convolution workspace holds {workspace.Length} floats; {threads} threads need {need} (was it sized for fewer threads?).");
    }

    /// <summary>
    /// Scratch floats the backward kernels need (the larger of the two passes'): for im2col, unfolded columns per
    /// thread and a partial weight gradient for every thread but one.
    /// </summary>
    public static long BackwardWorkspaceLength(in Conv2DGeometry g)
    {
        if (g.IsDepthwise) return 0;
        long im2col = Im2ColBackwardScratch(g, Threads(g));
        if (UsesWinogradWeight(g)) return Winograd3x3.BackwardWorkspaceLength(g);
        return UsesWinograd(g) ? Math.Max(im2col, Winograd3x3.BackwardWorkspaceLength(g)) : im2col;
    }

    /// <summary>The im2col backward passes' scratch with <paramref name="threads"/> threads: columns per thread and partial weight gradients for all but one.</summary>
    static long Im2ColBackwardScratch(in Conv2DGeometry g, int threads) =>
        ColumnScratch(g) * threads + (long)g.OutChannels * g.Rows * (threads - 1);

    /// <summary>Backward scratch floats per thread: a chunk's unfolded rows and output-gradient rows, or one unfolded column block.</summary>
    static long ColumnScratch(in Conv2DGeometry g) =>
        ImagesPerGemm(g) > 1 ? BatchedScratch(g) : g.IsPointwise ? 0 : (long)g.Rows * ColumnBlock(g);

    /// <summary>
    /// y = clamp(conv(x, w) + bias + residual). x NCHW, w [M, C/groups, KH, KW], bias length M or empty, y [N, M, OH, OW],
    /// <paramref name="residual"/> empty or shaped as y, <paramref name="clamp"/> the bounds (none when null). The GEMM
    /// paths add bias and residual and apply the bounds in registers as each output tile is stored; the other kernels
    /// do it on each stretch as the epilogue would. An <paramref name="epilogue"/> then runs on every stretch of y once
    /// it is final: per output row of a channel in the GEMM paths (by the GEMM thread that computed it) and per plane in
    /// the depthwise one (still in cache); after the whole output for Winograd and the few-channel kernel.
    /// </summary>
    /// <param name="packedWeights">Per group, the weights packed by <see cref="PackWeights"/> (fixed weights at inference); null packs them in every GEMM.</param>
    /// <param name="yImageStride">
    /// Floats from one image of y to the next (0: M·OH·OW, y dense). A larger stride lets y be a channel range of a wider
    /// tensor, such as a Concat's output written in place by its producers; epilogue offsets are then offsets into
    /// that span. Only where <see cref="WritesStrided"/> holds, and without a residual.
    /// </param>
    /// <param name="winogradFilters">Where <see cref="UsesWinograd"/> holds with fixed weights, the filters from <see cref="Winograd3x3.TransformFilters(in Conv2DGeometry, ReadOnlySpan{float})"/> (fixed weights at inference); else ignored.</param>
    /// <param name="winogradPacked">With <paramref name="winogradFilters"/>, those filters packed by <see cref="Winograd3x3.PackFilters"/>, or null.</param>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> workspace,
        ConvEpilogue? epilogue = null, Gemm.PackedA[]? packedWeights = null, ReadOnlySpan<float> residual = default, ConvClamp? clamp = null, long yImageStride = 0,
        ReadOnlySpan<float> winogradFilters = default, Gemm.PackedA[]? winogradPacked = null)
    {
        var bounds = clamp ?? ConvClamp.None;
        bool finishes = !residual.IsEmpty || bounds.HasMin || bounds.HasMax;
        long dense = (long)g.OutChannels * g.Positions, stride = yImageStride == 0 ? dense : yImageStride;
        if (!residual.IsEmpty && residual.Length < g.Batch * dense)
            throw new ArgumentException($"The residual holds {residual.Length} values; the output has {g.Batch * dense}.", nameof(residual));
        if (stride != dense)
        {
            if (stride < dense || y.Length < (g.Batch - 1) * stride + dense)
                throw new ArgumentException($"y holds {y.Length} floats; {g.Batch} images of {dense} floats {stride} apart need {(g.Batch - 1) * stride + dense}.", nameof(y));
            if (!residual.IsEmpty) throw new ArgumentException("A residual needs a dense y.", nameof(residual));
            if (!WritesStrided(g)) throw new ArgumentException($"The kernel for {g} writes a dense y only.", nameof(yImageStride));
        }
        if (packedWeights != null && packedWeights.Length != g.Groups) throw new ArgumentException("One packed weight matrix per group is needed.", nameof(packedWeights));
        unsafe
        {
            fixed (float* px = x, pw = w, pb = bias, py = y, pws = workspace, pr = residual)
            {
                var (xp, wp, bp, yp, wsp, rp) = ((nint)px, (nint)pw, (nint)pb, (nint)py, (nint)pws, (nint)pr);
                // Kernels without a register finish: residual and bounds on each stretch, then the epilogue.
                ConvEpilogue? after = !finishes ? epilogue : (start, length) =>
                {
                    var f = new ConvFinish(null, (float*)rp, (float*)yp, bounds);
                    f.ApplyInPlace((float*)yp + start, length, 0);
                    epilogue?.Invoke(start, length);
                };
                // Bounds alone go into the depthwise kernel's registers; a residual still takes the pass over each plane.
                if (g.IsDepthwise) { if (residual.IsEmpty) DepthwiseConv2D.Forward(g, x, w, bias, y, epilogue, clamp); else DepthwiseConv2D.Forward(g, x, w, bias, y, after); return; }
                if (UsesWinograd(g, fixedWeights: !winogradFilters.IsEmpty)) { Winograd3x3.Forward(g, x, w, bias, y, workspace, residual, clamp, stride, winogradFilters, winogradFilters.IsEmpty ? null : winogradPacked); Planes(g, epilogue, stride); return; }
                if (FewChannelConv2D.Applies(g)) { FewChannelConv2D.Forward(g, x, w, bias, y, workspace, residual, clamp); Planes(g, epilogue); return; }
                var geo = g;
                nint biasp = bias.IsEmpty ? 0 : bp;
                int perGemm = ImagesPerGemm(g), threads = Threads(g);
                Require(workspace, ForwardScratch(g, threads), threads);
                if (perGemm > 1)
                {
                    long scratch = BatchedScratch(g);
                    // Without a residual (laid out as y, not as the chunk's output rows) the bias and bounds go into
                    // the GEMM's registers; with one, they are passes over each row of y.
                    bool inGemm = residual.IsEmpty;
                    ForChunks(g, threads, perGemm, (n0, count, t, gemmThreads) =>
                        Images(geo, n0, count, xp, wp, biasp, yp, stride, wsp + (nint)(scratch * t * sizeof(float)), gemmThreads, inGemm ? epilogue : after, packedWeights, inGemm, bounds));
                    return;
                }
                long colSize = g.IsPointwise ? 0 : (long)g.Rows * ColumnBlock(g);
                ForImages(g, threads, (n, t, gemmThreads) => Image(geo, n, xp, wp, biasp, yp, stride, wsp + (nint)(colSize * t * sizeof(float)), gemmThreads, epilogue, packedWeights, rp, bounds));
            }
        }
    }

    /// <summary>Whether <see cref="Forward"/> can write y with images further apart than M·OH·OW (all kernels but the depthwise and few-channel ones).</summary>
    public static bool WritesStrided(in Conv2DGeometry g) => !g.IsDepthwise && !FewChannelConv2D.Applies(g);

    /// <summary>Whether <see cref="Forward"/> multiplies through <see cref="Gemm"/> (im2col or pointwise), where packed weights are used; <paramref name="fixedWeights"/> as for <see cref="UsesWinograd"/>.</summary>
    public static bool UsesGemm(in Conv2DGeometry g, bool fixedWeights = false) => !g.IsDepthwise && !UsesWinograd(g, fixedWeights) && !FewChannelConv2D.Applies(g);

    /// <summary>The weights [M, C/groups·KH·KW] packed once per group for repeated <see cref="Forward"/> calls.</summary>
    public static Gemm.PackedA[] PackWeights(in Conv2DGeometry g, ReadOnlySpan<float> w)
    {
        var packs = new Gemm.PackedA[g.Groups];
        int mg = g.GroupFilters, rows = g.Rows;
        for (int grp = 0; grp < g.Groups; grp++) packs[grp] = Gemm.Pack(w.Slice(grp * mg * rows, mg * rows), mg, rows);
        return packs;
    }

    /// <summary>The epilogue over the whole output, planes spread across threads (kernels that finish y all at once); images <paramref name="stride"/> floats apart (0: dense).</summary>
    static void Planes(in Conv2DGeometry g, ConvEpilogue? epilogue, long stride = 0)
    {
        if (epilogue == null) return;
        int positions = g.Positions, channels = g.OutChannels;
        if (stride == 0) stride = (long)channels * positions;
        // Each run of planes within one image is contiguous.
        Workers.For(g.Batch * channels, positions, (s, e) =>
        {
            for (int p = s; p < e;)
            {
                int n = p / channels, m = p % channels, run = Math.Min(e - p, channels - m);
                epilogue((int)(n * stride + (long)m * positions), run * positions);
                p += run;
            }
        });
    }

    /// <summary>
    /// One image: per group, y[m, p] = Σ_r w[m, r]·col[r, p] + bias[m]. The columns are unfolded and multiplied a
    /// block of positions at a time (<see cref="ColumnBlock"/>), so the unfolded block is still in cache when the GEMM
    /// packs it; the GEMM writes each block's columns of y in place.
    /// </summary>
    static unsafe void Image(in Conv2DGeometry g, int n, nint xp, nint wp, nint bp, nint yp, long yImage, nint wsp, int gemmThreads, ConvEpilogue? epilogue,
        Gemm.PackedA[]? packed, nint residual, ConvClamp bounds)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, block = ColumnBlock(g);
        float* x = (float*)xp, w = (float*)wp, b = (float*)bp, y = (float*)yp, col = (float*)wsp;
        int plane = g.InHeight * g.InWidth;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            float* xImage = x + ((long)n * g.InChannels + grp * cg) * plane;
            var weights = new ReadOnlySpan<float>(w + (long)grp * mg * rows, mg * rows);
            float* outGroup = y + n * yImage + (long)grp * mg * cols;
            // Bias, residual and bounds in registers as the GEMM stores each tile; the epilogue on each stretch of a row
            // the GEMM has finished, by the GEMM thread that finished it (at batch 1 the GEMM splits columns across
            // threads: no second parallel pass over y).
            long offset = outGroup - y;
            var finish = new ConvFinish(b == null ? null : b + grp * mg, (float*)residual, y, bounds);
            var pack = packed?[grp];
            if (g.IsPointwise)
                Gemm.Sgemm(mg, cols, rows, weights, pack, new ReadOnlySpan<float>(xImage, cg * plane), cols,
                    new Span<float>(outGroup, mg * cols), cols, gemmThreads, &finish, epilogue, offset);
            else
                for (int q0 = 0; q0 < cols; q0 += block)
                {
                    int width = Math.Min(block, cols - q0);
                    Im2ColRange(g, new ReadOnlySpan<float>(xImage, cg * plane), new Span<float>(col, rows * width), q0, q0 + width);
                    Gemm.Sgemm(mg, width, rows, weights, pack, new ReadOnlySpan<float>(col, rows * width), width,
                        new Span<float>(outGroup + q0, (mg - 1) * cols + width), cols, gemmThreads, &finish, epilogue, offset + q0);
                }
        }
    }

    /// <summary>
    /// A chunk of images [n0, n0 + count) side by side: per group, col[r, i·P + p] = im2col(x[n0 + i])[r, p], one GEMM
    /// out[m, i·P + p] = Σ_r w[m, r]·col[r, p] over all count·P columns, then y[n0 + i, m, p] = out[m, i·P + p] + bias[m]
    /// (with <paramref name="finishInGemm"/> the GEMM adds the bias and applies <paramref name="bounds"/> as it stores each tile of out).
    /// With few filters the unfolding and the GEMM go a block of the chunk's columns at a time (<see cref="BatchedBlock"/>).
    /// Scratch: col (rows × block), then out (M/groups × count·P).
    /// </summary>
    static unsafe void Images(in Conv2DGeometry g, int n0, int count, nint xp, nint wp, nint bp, nint yp, long yImage, nint wsp, int gemmThreads, ConvEpilogue? epilogue,
        Gemm.PackedA[]? packed, bool finishInGemm = false, ConvClamp bounds = default)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, width = count * cols, plane = g.InHeight * g.InWidth;
        // Blocks only where the GEMM reads B in place (few filters): there a short row stride pays; with more filters
        // B is packed anyway and each extra block would pack the weights again.
        int block = mg <= Gemm.UnpackedBMaxRows ? Math.Min(width, BatchedBlock(g)) : width;
        float* x = (float*)xp, w = (float*)wp, b = (float*)bp, y = (float*)yp, col = (float*)wsp, output = col + (long)rows * block;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            var weights = new ReadOnlySpan<float>(w + (long)grp * mg * rows, mg * rows);
            // The chunk's columns a block at a time (row length = the block's width, so the GEMM reads the unfolded
            // block at a short stride while it is in cache); a block may end and start inside an image.
            for (int s0 = 0; s0 < width; s0 += block)
            {
                int bw = Math.Min(block, width - s0);
                var colBlock = new Span<float>(col, rows * bw);
                for (int i = s0 / cols; i < count && i * cols < s0 + bw; i++)
                {
                    int a = Math.Max(s0, i * cols) - i * cols, e = Math.Min(s0 + bw, (i + 1) * cols) - i * cols;
                    UnfoldRange(g, new ReadOnlySpan<float>(x + ((long)(n0 + i) * g.InChannels + grp * cg) * plane, cg * plane),
                        colBlock[(i * cols + a - s0)..], a, e, bw);
                }
                if (finishInGemm)
                {
                    // Bias and bounds as the GEMM stores each tile of the chunk's output rows.
                    var finish = new ConvFinish(b == null ? null : b + grp * mg, null, output, bounds);
                    Gemm.Sgemm(mg, bw, rows, weights, packed?[grp], colBlock, bw, new Span<float>(output + s0, (mg - 1) * width + bw), width, gemmThreads, &finish, null, 0);
                }
                else if (packed != null)
                    Gemm.Sgemm(packed[grp], bw, colBlock, bw, new Span<float>(output + s0, (mg - 1) * width + bw), width, gemmThreads);
                else
                    Gemm.Sgemm(false, false, mg, bw, rows, 1, weights, rows, colBlock, bw, 0,
                        new Span<float>(output + s0, (mg - 1) * width + bw), width, gemmThreads);
            }
            for (int i = 0; i < count; i++)
                for (int m = 0; m < mg; m++)
                {
                    var src = new ReadOnlySpan<float>(output + (long)m * width + i * cols, cols);
                    long at = (n0 + i) * yImage + (long)(grp * mg + m) * cols;
                    var dst = new Span<float>(y + at, cols);
                    if (b != null && !finishInGemm) System.Numerics.Tensors.TensorPrimitives.Add(src, b[grp * mg + m], dst);
                    else src.CopyTo(dst);
                    epilogue?.Invoke((int)at, cols);
                }
        }
    }

    /// <summary>Columns per forward GEMM in the batched mode: as <see cref="ColumnBlock"/>, not bounded by one image.</summary>
    static int BatchedBlock(in Conv2DGeometry g) => Math.Max(MinColumnBlock, ColumnBlockBytes / sizeof(float) / Math.Max(1, g.Rows) / 32 * 32);

    /// <summary><see cref="Im2ColRange(in Conv2DGeometry, ReadOnlySpan{float}, Span{float}, int, int, int)"/>; a pointwise image is its own unfolding, copied a channel row at a time.</summary>
    static void UnfoldRange(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col, int q0, int q1, int ld)
    {
        if (!g.IsPointwise) { Im2ColRange(g, image, col, q0, q1, ld); return; }
        int cols = g.Positions;
        for (int c = 0; c < g.GroupChannels; c++) image.Slice(c * cols + q0, q1 - q0).CopyTo(col.Slice(c * ld, q1 - q0));
    }

    /// <summary><see cref="Im2Col(in Conv2DGeometry, ReadOnlySpan{float}, Span{float}, int)"/>; a pointwise image is its own unfolding, copied a channel plane at a time.</summary>
    static void Unfold(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col, int ld)
    {
        if (!g.IsPointwise) { Im2Col(g, image, col, ld); return; }
        int cols = g.Positions;
        for (int c = 0; c < g.GroupChannels; c++) image.Slice(c * cols, cols).CopyTo(col.Slice(c * ld, cols));
    }

    /// <summary>Copies rows [grp·M/groups, (grp+1)·M/groups) of the images [n0, n0 + count) of an N×M×P tensor side by side: dst[m, i·P + p] = src[n0 + i, grp·M/groups + m, p].</summary>
    static unsafe void GatherRows(in Conv2DGeometry g, float* src, int n0, int count, int grp, float* dst)
    {
        int mg = g.GroupFilters, cols = g.Positions, width = count * cols;
        for (int i = 0; i < count; i++)
            for (int m = 0; m < mg; m++)
                new ReadOnlySpan<float>(src + ((long)(n0 + i) * g.OutChannels + grp * mg + m) * cols, cols)
                    .CopyTo(new Span<float>(dst + (long)m * width + i * cols, cols));
    }

    /// <summary>
    /// The columns [q0, q1) of <c>Im2Col</c> (output positions in row-major order), written with row length
    /// q1 − q0: col[r, q − q0] = im2col(x)[r, q].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Im2ColRange(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col, int q0, int q1) =>
        Im2ColRange(g, image, col, q0, q1, q1 - q0);

    /// <summary>As above with row r of col starting at r·ld (ld ≥ q1 − q0), so ranges of several images can share a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Im2ColRange(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col, int q0, int q1, int ld)
    {
        int oh = g.OutHeight, ow = g.OutWidth, h = g.InHeight, wd = g.InWidth, width = q1 - q0;
        if (NarrowRows(g, q0, q1, image.Length, col.Length, ld)) { unsafe { fixed (float* pi = image, pc = col) NarrowIm2Col(g, pi, pc, q0 / ow, q1 / ow, ld); } return; }
        for (int c = 0; c < g.GroupChannels; c++)
        {
            var plane = image.Slice(c * h * wd, h * wd);
            for (int u = 0; u < g.KernelH; u++)
                for (int v = 0; v < g.KernelW; v++)
                {
                    var dst = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * ld, width);
                    int dx = v * g.DilationW - g.PadLeft;
                    // Output columns j with 0 ≤ j·sw + dx < W.
                    int j0 = dx >= 0 ? 0 : (-dx + g.StrideW - 1) / g.StrideW;
                    int j1 = Math.Min(ow, (wd - dx + g.StrideW - 1) / g.StrideW);
                    if (j1 < j0) j1 = j0;
                    for (int q = q0; q < q1;)
                    {
                        int i = q / ow, jA = q % ow, jB = Math.Min(ow, jA + (q1 - q));
                        var seg = dst.Slice(q - q0, jB - jA);
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        q += jB - jA;
                        if (yy < 0 || yy >= h) { seg.Clear(); continue; }
                        int a = Math.Max(jA, j0), e = Math.Min(jB, j1);
                        if (e <= a) { seg.Clear(); continue; }
                        if (a > jA) seg[..(a - jA)].Clear();
                        if (e < jB) seg[(e - jA)..].Clear();
                        var src = plane.Slice(yy * wd);
                        if (g.StrideW == 1) src.Slice(a + dx, e - a).CopyTo(seg[(a - jA)..(e - jA)]);
                        else if (g.StrideW == 2) GatherEven(src[(a * 2 + dx)..], seg[(a - jA)..(e - jA)]);
                        else for (int j = a; j < e; j++) seg[j - jA] = src[j * g.StrideW + dx];
                    }
                }
        }
    }

    /// <summary>
    /// Whether <see cref="Im2ColRange(in Conv2DGeometry, ReadOnlySpan{float}, Span{float}, int, int, int)"/> takes
    /// <see cref="NarrowIm2Col"/>: AVX-512, stride 1 and no dilation along the row, whole output rows of at most 16
    /// columns (13×13, 7×7 planes), every input row's loads inside <paramref name="imageLength"/> — where a copy per row
    /// segment, 13 floats, cost more than its data (SqueezeNet's 13×13 3×3 layers spent a sixth of their time unfolding).
    /// </summary>
    internal static bool NarrowRows(in Conv2DGeometry g, int q0, int q1, int imageLength, int colLength, int ld) =>
        Avx512F.IsSupported && g.StrideW == 1 && g.DilationW == 1 && g.OutWidth <= 16 && q0 % g.OutWidth == 0 && q1 % g.OutWidth == 0
        && imageLength >= g.GroupChannels * g.InHeight * g.InWidth && colLength >= (g.Rows - 1) * ld + (q1 - q0);

    /// <summary>
    /// The unfolding of output rows [i0, i1) for stride 1 along the row: for each (c, u, v) and output row, one masked
    /// load of the input row's columns j + v − pad (lanes outside the row or past the output width read as zero) and
    /// one masked store of the row's OW values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void NarrowIm2Col(in Conv2DGeometry g, float* image, float* col, int i0, int i1, int ld)
    {
        int ow = g.OutWidth, h = g.InHeight, wd = g.InWidth, kh = g.KernelH, kw = g.KernelW;
        var store = Lanes512.FirstLanes(ow);
        var lanes = Lanes512.Indices;
        for (int v = 0; v < kw; v++)
        {
            int dx = v - g.PadLeft;
            // Lane j reads column j + dx: kept where 0 ≤ j + dx < W and j < OW.
            var load = (Vector512.GreaterThanOrEqual(lanes, Vector512.Create(-dx)) & Vector512.LessThan(lanes, Vector512.Create(Math.Min(ow, wd - dx)))).AsSingle();
            for (int c = 0; c < g.GroupChannels; c++)
            {
                float* plane = image + (long)c * h * wd;
                for (int u = 0; u < kh; u++)
                {
                    float* dst = col + (long)((c * kh + u) * kw + v) * ld;
                    for (int i = i0; i < i1; i++, dst += ow)
                    {
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        var row = yy < 0 || yy >= h ? Vector512<float>.Zero : Avx512F.MaskLoad(plane + (long)yy * wd + dx, load, Vector512<float>.Zero);
                        Avx512F.MaskStore(dst, store, row);
                    }
                }
            }
        }
    }

    /// <summary>
    /// dst[j] = src[2j] for every j of dst (the unfolding of a stride-2 row). Vector path: 32 source floats per step,
    /// the even lanes picked by a two-register permute (AVX-512) or a shuffle and a 64-bit lane permute (AVX2); it runs
    /// while the 32 floats lie inside src, which may extend past the last element read, and the scalar loop takes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void GatherEven(ReadOnlySpan<float> src, Span<float> dst)
    {
        int j = 0, count = dst.Length;
        fixed (float* ps = src, pd = dst)
        {
            if (Avx512F.IsSupported)
            {
                var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                for (; j + 16 <= count && 2 * j + 32 <= src.Length; j += 16)
                    Avx512F.PermuteVar16x32x2(Vector512.Load(ps + 2 * j), even, Vector512.Load(ps + 2 * j + 16)).Store(pd + j);
                // The rest in one masked step: loads kept inside src, the store to the outputs left.
                if (j < count)
                {
                    int readable = src.Length - 2 * j;
                    var lo = Avx512F.MaskLoad(ps + 2 * j, Lanes512.FirstLanes(readable), Vector512<float>.Zero);
                    var hi = Avx512F.MaskLoad(ps + 2 * j + 16, Lanes512.FirstLanes(readable - 16), Vector512<float>.Zero);
                    Avx512F.MaskStore(pd + j, Lanes512.FirstLanes(count - j), Avx512F.PermuteVar16x32x2(lo, even, hi));
                    return;
                }
            }
            else if (Avx2.IsSupported)
            {
                for (; j + 8 <= count && 2 * j + 16 <= src.Length; j += 8)
                {
                    // Per 128-bit lane (s0 s2 s8 s10 | s4 s6 s12 s14), then 64-bit lanes 0, 2, 1, 3: s0 s2 … s14.
                    var mixed = Avx.Shuffle(Vector256.Load(ps + 2 * j), Vector256.Load(ps + 2 * j + 8), 0b10_00_10_00);
                    Avx2.Permute4x64(mixed.AsDouble(), 0b11_01_10_00).AsSingle().Store(pd + j);
                }
            }
            for (; j < count; j++) pd[j] = ps[2 * j];
        }
    }

    /// <summary>
    /// The adjoint of <c>Im2ColRange</c>: adds col[r, q − q0] (row length q1 − q0) back into the image
    /// position that column q of row r was read from.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Col2ImAddRange(in Conv2DGeometry g, ReadOnlySpan<float> col, Span<float> image, int q0, int q1)
    {
        int ow = g.OutWidth, h = g.InHeight, wd = g.InWidth, width = q1 - q0;
        for (int c = 0; c < g.GroupChannels; c++)
        {
            var plane = image.Slice(c * h * wd, h * wd);
            for (int u = 0; u < g.KernelH; u++)
                for (int v = 0; v < g.KernelW; v++)
                {
                    var src = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * width, width);
                    int dx = v * g.DilationW - g.PadLeft;
                    int j0 = dx >= 0 ? 0 : (-dx + g.StrideW - 1) / g.StrideW;
                    int j1 = Math.Min(ow, (wd - dx + g.StrideW - 1) / g.StrideW);
                    for (int q = q0; q < q1;)
                    {
                        int i = q / ow, jA = q % ow, jB = Math.Min(ow, jA + (q1 - q));
                        var seg = src.Slice(q - q0, jB - jA);
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        q += jB - jA;
                        int a = Math.Max(jA, j0), e = Math.Min(jB, j1);
                        if (yy < 0 || yy >= h || e <= a) continue;
                        var dst = plane.Slice(yy * wd);
                        if (g.StrideW == 1)
                            System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(a + dx, e - a), seg[(a - jA)..(e - jA)], dst.Slice(a + dx, e - a));
                        else for (int j = a; j < e; j++) dst[j * g.StrideW + dx] += seg[j - jA];
                    }
                }
        }
    }

    /// <summary>
    /// Unfolds one image's group of channels: col[(c·KH + u)·KW + v, i·OW + j] = x[c, i·sh − pt + u·dh, j·sw − pl + v·dw] (0 outside).
    /// The valid column range of each (u, v, i) row is computed once, so the inner copy has no bounds test.
    /// </summary>
    public static void Im2Col(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col) => Im2Col(g, image, col, g.Positions);

    /// <summary>As <c>Im2Col</c> with row r of col starting at r·ld (ld ≥ positions), so several images can be unfolded side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Im2Col(in Conv2DGeometry g, ReadOnlySpan<float> image, Span<float> col, int ld)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cols = oh * ow, h = g.InHeight, wd = g.InWidth;
        for (int c = 0; c < g.GroupChannels; c++)
        {
            var plane = image.Slice(c * h * wd, h * wd);
            for (int u = 0; u < g.KernelH; u++)
                for (int v = 0; v < g.KernelW; v++)
                {
                    var dst = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * ld, cols);
                    int dx = v * g.DilationW - g.PadLeft;
                    // Output columns j with 0 ≤ j·sw + dx < W.
                    int j0 = dx >= 0 ? 0 : (-dx + g.StrideW - 1) / g.StrideW;
                    int j1 = Math.Min(ow, (wd - dx + g.StrideW - 1) / g.StrideW);
                    if (j1 < j0) j1 = j0;
                    for (int i = 0; i < oh; i++)
                    {
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        var row = dst.Slice(i * ow, ow);
                        if (yy < 0 || yy >= h) { row.Clear(); continue; }
                        row[..j0].Clear();
                        row[j1..].Clear();
                        var src = plane.Slice(yy * wd);
                        if (g.StrideW == 1) src.Slice(j0 + dx, j1 - j0).CopyTo(row[j0..j1]);
                        else if (g.StrideW == 2) GatherEven(src[(j0 * 2 + dx)..], row[j0..j1]);
                        else for (int j = j0; j < j1; j++) row[j] = src[j * g.StrideW + dx];
                    }
                }
        }
    }

    /// <summary>The adjoint of <c>Im2Col</c>: adds col back into the image positions it was read from.</summary>
    public static void Col2ImAdd(in Conv2DGeometry g, ReadOnlySpan<float> col, Span<float> image) => Col2ImAdd(g, col, image, g.Positions);

    /// <summary>As <see cref="Col2ImAdd(in Conv2DGeometry, ReadOnlySpan{float}, Span{float})"/> with row r of col starting at r·ld.</summary>
    public static void Col2ImAdd(in Conv2DGeometry g, ReadOnlySpan<float> col, Span<float> image, int ld)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cols = oh * ow, h = g.InHeight, wd = g.InWidth;
        for (int c = 0; c < g.GroupChannels; c++)
        {
            var plane = image.Slice(c * h * wd, h * wd);
            for (int u = 0; u < g.KernelH; u++)
                for (int v = 0; v < g.KernelW; v++)
                {
                    var src = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * ld, cols);
                    int dx = v * g.DilationW - g.PadLeft;
                    int j0 = dx >= 0 ? 0 : (-dx + g.StrideW - 1) / g.StrideW;
                    int j1 = Math.Min(ow, (wd - dx + g.StrideW - 1) / g.StrideW);
                    for (int i = 0; i < oh; i++)
                    {
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        if (yy < 0 || yy >= h) continue;
                        var dst = plane.Slice(yy * wd);
                        var row = src.Slice(i * ow, ow);
                        if (g.StrideW == 1 && j1 > j0)
                            System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(j0 + dx, j1 - j0), row[j0..j1], dst.Slice(j0 + dx, j1 - j0));
                        else for (int j = j0; j < j1; j++) dst[j * g.StrideW + dx] += row[j];
                    }
                }
        }
    }

    /// <summary>
    /// dx += col2im(Wᵀ·dy). Images are spread across threads (each with its own unfolded buffer in the workspace); with
    /// one image the GEMM itself is parallel. Depthwise convolutions run the direct kernel. With <paramref name="add"/>
    /// false dx is set instead: pointwise GEMMs write it (β = 0), other images are cleared just before their fold.
    /// </summary>
    public static void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, Span<float> workspace, bool add = true)
    {
        if (g.IsDepthwise)
        {
            if (DepthwiseConv2D.DataAsForward(g, dy, w, dx, add)) return;
            if (!add) dx.Clear();
            DepthwiseConv2D.BackwardData(g, dy, w, dx);
            return;
        }
        if (UsesWinograd(g)) { Winograd3x3.BackwardData(g, dy, w, dx, workspace, add); return; }
        unsafe
        {
            fixed (float* pdy = dy, pw = w, pdx = dx, pws = workspace)
            {
                var (dyp, wp, dxp, wsp) = ((nint)pdy, (nint)pw, (nint)pdx, (nint)pws);
                var geo = g;
                int perGemm = ImagesPerGemm(g), threads = Threads(g);
                Require(workspace, ColumnScratch(g) * threads, threads);
                if (perGemm > 1)
                {
                    long scratch = BatchedScratch(g);
                    ForChunks(g, threads, perGemm, (n0, count, t, gemmThreads) =>
                        DataImages(geo, n0, count, dyp, wp, dxp, wsp + (nint)(scratch * t * sizeof(float)), gemmThreads, add));
                    return;
                }
                long colSize = ColumnScratch(g);
                ForImages(g, threads, (n, t, gemmThreads) => DataImage(geo, n, dyp, wp, dxp, wsp + (nint)(colSize * t * sizeof(float)), gemmThreads, add));
            }
        }
    }

    static unsafe void DataImage(in Conv2DGeometry g, int n, nint dyp, nint wp, nint dxp, nint wsp, int gemmThreads, bool add)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, plane = g.InHeight * g.InWidth, block = ColumnBlock(g);
        float* dy = (float*)dyp, w = (float*)wp, dx = (float*)dxp, col = (float*)wsp;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            var dImage = new Span<float>(dx + ((long)n * g.InChannels + grp * cg) * plane, cg * plane);
            float* dyG = dy + ((long)n * g.OutChannels + grp * mg) * cols;
            var wG = new ReadOnlySpan<float>(w + (long)grp * mg * rows, mg * rows);
            if (g.IsPointwise) { Gemm.Sgemm(true, false, rows, cols, mg, 1, wG, rows, new ReadOnlySpan<float>(dyG, mg * cols), cols, add ? 1 : 0, dImage, cols, gemmThreads); continue; }
            if (!add) dImage.Clear();
            // A block of columns at a time, folded back while it is still in cache.
            for (int q0 = 0; q0 < cols; q0 += block)
            {
                int width = Math.Min(block, cols - q0);
                var colSpan = new Span<float>(col, rows * width);
                Gemm.Sgemm(true, false, rows, width, mg, 1, wG, rows, new ReadOnlySpan<float>(dyG + q0, (mg - 1) * cols + width), cols, 0, colSpan, width, gemmThreads);
                Col2ImAddRange(g, colSpan, dImage, q0, q0 + width);
            }
        }
    }

    /// <summary>
    /// A chunk of images side by side: per group, dyG[m, i·P + p] = dy[n0 + i, m, p], dcol = Wᵀ·dyG over all count·P
    /// columns, and each image's columns are folded back (col2im) into dx. Scratch: dyG, then dcol.
    /// </summary>
    static unsafe void DataImages(in Conv2DGeometry g, int n0, int count, nint dyp, nint wp, nint dxp, nint wsp, int gemmThreads, bool add)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, width = count * cols, plane = g.InHeight * g.InWidth;
        float* dy = (float*)dyp, w = (float*)wp, dx = (float*)dxp, dyG = (float*)wsp, dcol = dyG + (long)mg * width;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            GatherRows(g, dy, n0, count, grp, dyG);
            Gemm.Sgemm(true, false, rows, width, mg, 1, new ReadOnlySpan<float>(w + (long)grp * mg * rows, mg * rows), rows,
                new ReadOnlySpan<float>(dyG, mg * width), width, 0, new Span<float>(dcol, rows * width), width, gemmThreads);
            for (int i = 0; i < count; i++)
            {
                var image = new Span<float>(dx + ((long)(n0 + i) * g.InChannels + grp * cg) * plane, cg * plane);
                var part = new ReadOnlySpan<float>(dcol + (long)i * cols, (rows - 1) * width + cols);
                if (!g.IsPointwise)
                {
                    if (!add) image.Clear();
                    Col2ImAdd(g, part, image, width);
                    continue;
                }
                for (int c = 0; c < cg; c++)
                {
                    var dst = image.Slice(c * cols, cols);
                    if (add) System.Numerics.Tensors.TensorPrimitives.Add(dst, part.Slice(c * width, cols), dst);
                    else part.Slice(c * width, cols).CopyTo(dst);
                }
            }
        }
    }

    /// <summary>
    /// A chunk of images side by side: per group, dW += dyG·colᵀ with dyG[m, i·P + p] = dy[n0 + i, m, p] and
    /// col[r, i·P + p] = im2col(x[n0 + i])[r, p], one GEMM of depth count·P. Scratch: dyG, then col.
    /// </summary>
    static unsafe void WeightImages(in Conv2DGeometry g, int n0, int count, nint xp, nint dyp, nint dwp, nint wsp, int gemmThreads)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, width = count * cols, plane = g.InHeight * g.InWidth;
        float* x = (float*)xp, dy = (float*)dyp, dw = (float*)dwp, dyG = (float*)wsp, col = dyG + (long)mg * width;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            GatherRows(g, dy, n0, count, grp, dyG);
            for (int i = 0; i < count; i++)
                Unfold(g, new ReadOnlySpan<float>(x + ((long)(n0 + i) * g.InChannels + grp * cg) * plane, cg * plane),
                    new Span<float>(col + (long)i * cols, (rows - 1) * width + cols), width);
            Gemm.Sgemm(false, true, mg, rows, width, 1, new ReadOnlySpan<float>(dyG, mg * width), width,
                new ReadOnlySpan<float>(col, rows * width), width, 1, new Span<float>(dw + (long)grp * mg * rows, mg * rows), rows, gemmThreads);
        }
    }

    /// <summary>
    /// dW += Σ_n dy_n·col_nᵀ. Images are spread across threads; each thread sums its images into its own partial
    /// gradient (the first thread's is dW itself), and the partials are added at the end.
    /// </summary>
    public static void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> workspace)
    {
        if (g.IsDepthwise) { DepthwiseConv2D.BackwardWeight(g, x, dy, dw); return; }
        if (UsesWinogradWeight(g)) { Winograd3x3.BackwardWeight(g, x, dy, dw, workspace); return; }
        unsafe
        {
            fixed (float* px = x, pdy = dy, pdw = dw, pws = workspace)
            {
                var (xp, dyp, dwp, wsp) = ((nint)px, (nint)pdy, (nint)pdw, (nint)pws);
                var geo = g;
                int threads = Threads(g), perGemm = ImagesPerGemm(g);
                Require(workspace, Im2ColBackwardScratch(g, threads), threads);
                long colSize = ColumnScratch(g);
                int weights = dw.Length;
                // Workspace: one unfolded buffer per thread, then a partial gradient for every thread but the first.
                nint partials = wsp + (nint)(colSize * threads * sizeof(float));
                new Span<float>((float*)partials, weights * (threads - 1)).Clear();
                nint Partial(int t) => t == 0 ? dwp : partials + (nint)((long)weights * (t - 1) * sizeof(float));
                if (perGemm > 1)
                    ForChunks(g, threads, perGemm, (n0, count, t, gemmThreads) =>
                        WeightImages(geo, n0, count, xp, dyp, Partial(t), wsp + (nint)(colSize * t * sizeof(float)), gemmThreads));
                else
                    ForImages(g, threads, (n, t, gemmThreads) => WeightImage(geo, n, xp, dyp, Partial(t), wsp + (nint)(colSize * t * sizeof(float)), gemmThreads));
                for (int t = 1; t < threads; t++)
                    System.Numerics.Tensors.TensorPrimitives.Add(dw, new ReadOnlySpan<float>((float*)partials + (long)weights * (t - 1), weights), dw);
            }
        }
    }

    static unsafe void WeightImage(in Conv2DGeometry g, int n, nint xp, nint dyp, nint dwp, nint wsp, int gemmThreads)
    {
        int cg = g.GroupChannels, mg = g.GroupFilters, rows = g.Rows, cols = g.Positions, plane = g.InHeight * g.InWidth, block = ColumnBlock(g);
        float* x = (float*)xp, dy = (float*)dyp, dw = (float*)dwp, col = (float*)wsp;
        for (int grp = 0; grp < g.Groups; grp++)
        {
            var image = new ReadOnlySpan<float>(x + ((long)n * g.InChannels + grp * cg) * plane, cg * plane);
            float* dyG = dy + ((long)n * g.OutChannels + grp * mg) * cols;
            var dwG = new Span<float>(dw + (long)grp * mg * rows, mg * rows);
            if (g.IsPointwise) { Gemm.Sgemm(false, true, mg, rows, cols, 1, new ReadOnlySpan<float>(dyG, mg * cols), cols, image, cols, 1, dwG, rows, gemmThreads); continue; }
            // A block of positions at a time (the GEMM's depth), unfolded just before it is packed.
            for (int q0 = 0; q0 < cols; q0 += block)
            {
                int width = Math.Min(block, cols - q0);
                var colSpan = new Span<float>(col, rows * width);
                Im2ColRange(g, image, colSpan, q0, q0 + width);
                Gemm.Sgemm(false, true, mg, rows, width, 1, new ReadOnlySpan<float>(dyG + q0, (mg - 1) * cols + width), cols,
                    colSpan, width, 1, dwG, rows, gemmThreads);
            }
        }
    }

    /// <summary>dB += Σ dy over batch and space (adds); channels are spread across threads.</summary>
    public static void BackwardBias(in Conv2DGeometry g, ReadOnlySpan<float> dy, Span<float> db)
    {
        unsafe
        {
            fixed (float* pdy = dy, pdb = db)
            {
                nint dyp = (nint)pdy, dbp = (nint)pdb;
                int cols = g.Positions, batch = g.Batch, channels = g.OutChannels;
                Workers.For(channels, (long)batch * cols, (m0, m1) =>
                {
                    for (int m = m0; m < m1; m++)
                    {
                        float acc = 0;
                        for (int n = 0; n < batch; n++)
                            acc += System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>((float*)dyp + ((long)n * channels + m) * cols, cols));
                        ((float*)dbp)[m] += acc;
                    }
                });
            }
        }
    }
}
