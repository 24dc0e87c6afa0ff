using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) convolution (Lavin &amp; Gray 2015, interpolation points 0, ±1, ±2, ∞) for 3×3 filters with
/// stride 1, dilation 1, one pixel of padding on every side and one group. Each 4×4 block of outputs ("tile") is read
/// from a 6×6 block of inputs at stride 4; per tile and channel the input is transformed V = Bᵀ d B, the filters
/// U = G g Gᵀ, and Y = Aᵀ [Σ_c U ⊙ V] A, which costs 36 multiplies per 16 outputs where the direct form costs 144.
/// The sum over channels at each of the 36 points ξ is a GEMM: M[ξ] (filters × tiles) = U[ξ] (filters × channels) ·
/// V[ξ] (channels × tiles), so the work goes to the packed <see cref="Gemm"/>.
/// <para>
/// Tiles are numbered across the batch (image, tile row, tile column), so the tiles of several small images sit side
/// by side as the columns of one GEMM. With many tiles, threads take contiguous ranges of them and run each block
/// through transform, GEMMs and inverse transform with their own scratch; with few (small planes), all threads work
/// on one block at a time, the transforms split by channel and the GEMMs by point. The filter transform is shared.
/// The input gradient is the same convolution of dy with the filters rotated 180° and their channels swapped; the
/// weight gradient is dW = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ V] G, again one GEMM per point.
/// Transforms run across tiles, 16 (AVX-512) or 8 (AVX2) tiles per vector, with a scalar path for the rest.
/// </para>
/// </summary>
public static unsafe class Winograd3x3
{
    /// <summary>Points of the transformed tile (6×6).</summary>
    const int Points = 36;

    /// <summary>Whether the geometry is one this kernel computes: 3×3, stride 1, dilation 1, pads 1 on all sides, one group.</summary>
    public static bool Applies(in Conv2DGeometry g) =>
        g.Groups == 1 && g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadTop == 1 && g.PadLeft == 1 && g.PadBottom == 1 && g.PadRight == 1;

    /// <summary>Tiles of the batch: 4×4 output blocks, ⌈W/4⌉ × ⌈H/4⌉ per image.</summary>
    internal static long Tiles(in Conv2DGeometry g) => new Tiling(g).Count;

    /// <summary>Tiles of the batch: Across × Down per image, numbered image by image, row by row.</summary>
    readonly struct Tiling(in Conv2DGeometry g)
    {
        public readonly int Height = g.InHeight, Width = g.InWidth, Across = (g.InWidth + 3) / 4, Down = (g.InHeight + 3) / 4;
        public readonly long Count = (long)g.Batch * ((g.InWidth + 3) / 4) * ((g.InHeight + 3) / 4);
        public int PerImage => Across * Down;
        public int Plane => Height * Width;

        /// <summary>Image and top-left output position of tile t.</summary>
        public void Locate(long t, out int n, out int row, out int col)
        {
            n = (int)(t / PerImage);
            int r = (int)(t - (long)n * PerImage);
            row = r / Across * 4;
            col = r % Across * 4;
        }

        /// <summary>The tile after (n, row, col).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next(ref int n, ref int row, ref int col)
        {
            col += 4;
            if (col < Across * 4) return;
            col = 0; row += 4;
            if (row < Down * 4) return;
            row = 0; n++;
        }
    }

    /// <summary>
    /// Block widths and thread ranges are multiples of this many tiles: the widest GEMM micro-tile (32 columns), so the
    /// 36 GEMMs have no partial strips, and a multiple of every lane count.
    /// </summary>
    const int Strip = 32;

    /// <summary>
    /// Floats one block's transformed inputs and outputs (36·(C + M) per tile) aim at: 2M floats (8 MB, within L3)
    /// gives 256 tiles to the 64-channel stage and 112 to the 256-channel one.
    /// </summary>
    const long BlockFloats = 2L << 20;

    /// <summary>Fewest and most tiles per block: narrower GEMMs run well below full speed; wider ones gain nothing.</summary>
    const int MinBlock = 64, MaxBlock = 256;

    /// <summary>
    /// Tiles per block: what <see cref="BlockFloats"/> allows within [<see cref="MinBlock"/>, <see cref="MaxBlock"/>],
    /// a multiple of <see cref="Strip"/>, and at most the batch's tiles (rounded up to a strip).
    /// </summary>
    static int BlockTiles(int inChannels, int outChannels, long tiles)
    {
        long fit = BlockFloats / (Points * (long)(inChannels + outChannels)) / Strip * Strip;
        return (int)Math.Min(Math.Clamp(fit, MinBlock, MaxBlock), (tiles + Strip - 1) / Strip * Strip);
    }

    /// <summary>Threads for a batch of tiles: every core, but at least a few groups of tiles each.</summary>
    static int ThreadsFor(long tiles) => (int)Math.Max(1, Math.Min(Workers.MaxThreads, tiles / (2 * Strip)));

    /// <summary>Scratch floats of one thread's block: transformed inputs and GEMM outputs.</summary>
    static long BlockScratch(int inChannels, int outChannels, long tiles) =>
        Points * (long)(inChannels + outChannels) * BlockTiles(inChannels, outChannels, tiles);

    /// <summary>
    /// Tiles per thread below which the batch goes through in blocks shared by all threads, each block's transforms
    /// split by channel and its 36 GEMMs by point, instead of a range of tiles per thread. A thread's range would hold
    /// only a few blocks there, so every thread would stream all the transformed filters for few GEMM columns, and the
    /// weight gradient would keep a full partial sum of them per thread. Measured at batch 32 on 2 threads: shared
    /// blocks are 15–20 % faster for ResNet's 28×28 stage (784 tiles per thread) and up to 30 % for the 7×7 stage's
    /// weight gradient; for the 56×56 stage (3136 per thread) the two are even.
    /// </summary>
    const int SharedBelow = 1024;

    /// <summary>Whether the tiles go through in shared blocks (see <see cref="SharedBelow"/>).</summary>
    internal static bool SharesBlocks(long tiles) => Workers.MaxThreads > 1 && tiles < (long)Workers.MaxThreads * SharedBelow;

    /// <summary>
    /// How one call splits the tiles: blocks shared by all threads, or a range per thread (and how many threads). Taken
    /// once per call from the thread setting, so a setting changed meanwhile cannot make a call use more scratch than
    /// it checked for.
    /// </summary>
    readonly record struct Schedule(bool Shared, int Threads)
    {
        public static Schedule For(long tiles) => SharesBlocks(tiles) ? new(true, 1) : new(false, ThreadsFor(tiles));

        /// <summary>Blocks of scratch in use at once: one shared, or one per thread.</summary>
        public int Blocks => Shared ? 1 : Threads;
    }

    /// <summary>Scratch floats <see cref="Forward"/> needs: the transformed filters, then a block (per thread, unless shared).</summary>
    public static long WorkspaceLength(in Conv2DGeometry g) => ConvolveScratch(g, Schedule.For(Tiles(g)));

    static long ConvolveScratch(in Conv2DGeometry g, Schedule s) =>
        Points * (long)g.OutChannels * g.InChannels + BlockScratch(g.InChannels, g.OutChannels, Tiles(g)) * s.Blocks;

    /// <summary>
    /// Scratch floats <see cref="BackwardData"/> and <see cref="BackwardWeight"/> need (they run one after the other):
    /// a transformed weight gradient and a block, per thread unless the blocks are shared.
    /// </summary>
    public static long BackwardWorkspaceLength(in Conv2DGeometry g) => WeightScratch(g, Schedule.For(Tiles(g)));

    static long WeightScratch(in Conv2DGeometry g, Schedule s) =>
        (Points * (long)g.OutChannels * g.InChannels + BlockScratch(g.InChannels, g.OutChannels, Tiles(g))) * s.Blocks;

    /// <summary>Refuses a workspace smaller than the call's schedule needs (sized for a smaller thread setting, say) rather than writing past it.</summary>
    static void Require(Span<float> workspace, long need)
    {
        if (workspace.Length < need)
            throw new ArgumentException($"The workspace holds {workspace.Length} floats; this call needs {need} (sized for a smaller thread setting?).");
    }

    /// <summary>
    /// y = clamp(conv(x, w) + bias + residual), x [N, C, H, W], w [M, C, 3, 3], bias length M or empty, y [N, M, H, W],
    /// <paramref name="residual"/> empty or shaped as y, <paramref name="clamp"/> the bounds (none when null), applied
    /// to each tile row in registers as the output transform stores it. <paramref name="yImageStride"/>: floats from one
    /// image of y to the next (0: M·H·W, y dense), so y may be a slice of a wider tensor (a channel range of a Concat's
    /// output); a residual needs y dense. <paramref name="transformed"/>: the filters as <see cref="TransformFilters"/>
    /// gave them for w (fixed weights at inference), else they are transformed into the workspace on every call.
    /// </summary>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> workspace,
        ReadOnlySpan<float> residual = default, ConvClamp? clamp = null, long yImageStride = 0, ReadOnlySpan<float> transformed = default,
        Gemm.PackedA[]? packedFilters = null)
    {
        if (packedFilters != null && (transformed.IsEmpty || packedFilters.Length != Points || packedFilters[0].Rows != g.OutChannels || packedFilters[0].Depth != g.InChannels))
            throw new ArgumentException($"Packed filters go with the transformed filters they were packed from: {Points} matrices of {g.OutChannels}×{g.InChannels}.", nameof(packedFilters));
        if (!transformed.IsEmpty && transformed.Length != Points * (long)g.OutChannels * g.InChannels)
            throw new ArgumentException($"Transformed filters hold {transformed.Length} floats; {g.OutChannels}×{g.InChannels} filters need {Points * (long)g.OutChannels * g.InChannels}.", nameof(transformed));
        if (!residual.IsEmpty && residual.Length < y.Length) throw new ArgumentException($"The residual holds {residual.Length} values; the output has {y.Length}.", nameof(residual));
        if (!Applies(g)) throw new ArgumentException($"Winograd F(4×4, 3×3) does not apply to {g}.");
        int c = g.InChannels, m = g.OutChannels;
        long image = (long)m * g.InHeight * g.InWidth, stride = yImageStride == 0 ? image : yImageStride;
        if (stride < image || y.Length < (g.Batch - 1) * stride + image)
            throw new ArgumentException($"y holds {y.Length} floats; {g.Batch} images of {image} floats {stride} apart need {(g.Batch - 1) * stride + image}.", nameof(y));
        if (stride != image && !residual.IsEmpty) throw new ArgumentException("A residual needs a dense y.", nameof(residual));
        var schedule = Schedule.For(Tiles(g));
        Require(workspace, ConvolveScratch(g, schedule));
        fixed (float* px = x, pw = w, pb = bias, py = y, pws = workspace, pr = residual, pu = transformed)
        {
            var finish = new ConvFinish(null, pr, py, clamp ?? ConvClamp.None);
            if (transformed.IsEmpty) TransformFilters((nint)pw, m, c, (nint)pws, rotated: false);
            Convolve(new Tiling(g), schedule, (nint)px, c, transformed.IsEmpty ? (nint)pws : (nint)pu, m, (nint)py, bias.IsEmpty ? 0 : (nint)pb, accumulate: false,
                (nint)(pws + Points * (long)m * c), finish.Acts ? (nint)(&finish) : 0, stride, packedFilters);
        }
    }

    /// <summary>
    /// dx += conv(dy, w̃) with w̃[c, m, u, v] = w[m, c, 2 − u, 2 − v]: the input gradient of a stride-1, pad-1 3×3
    /// convolution is the same convolution of the output gradient with the filters rotated and transposed. With
    /// <paramref name="add"/> false dx is set instead: the inverse transform writes every element of it exactly once.
    /// </summary>
    public static void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, Span<float> workspace, bool add = true)
    {
        if (!Applies(g)) throw new ArgumentException($"Winograd F(4×4, 3×3) does not apply to {g}.");
        int c = g.InChannels, m = g.OutChannels;
        var schedule = Schedule.For(Tiles(g));
        Require(workspace, ConvolveScratch(g, schedule));
        fixed (float* pdy = dy, pw = w, pdx = dx, pws = workspace)
        {
            TransformFilters((nint)pw, m, c, (nint)pws, rotated: true);
            Convolve(new Tiling(g), schedule, (nint)pdy, m, (nint)pws, c, (nint)pdx, 0, accumulate: add, (nint)(pws + Points * (long)m * c));
        }
    }

    /// <summary>
    /// dW += Gᵀ [Σ_n Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G per filter and channel. With Y = Aᵀ (U ⊙ V) A and U = G g Gᵀ,
    /// ⟨dY, Y⟩ = ⟨A dY Aᵀ, U ⊙ V⟩, so dU = Σ (A dY Aᵀ) ⊙ V and dg = Gᵀ dU G; output positions past the image edge carry
    /// no gradient (dY = 0 there). Each thread sums its tiles into its own dU (one GEMM per point and block) and the
    /// partial sums are added while they are transformed back; with shared blocks there is one dU, its points split
    /// across threads.
    /// </summary>
    public static void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> workspace)
    {
        if (!Applies(g)) throw new ArgumentException($"Winograd F(4×4, 3×3) does not apply to {g}.");
        int c = g.InChannels, m = g.OutChannels;
        var tiling = new Tiling(g);
        var schedule = Schedule.For(tiling.Count);
        Require(workspace, WeightScratch(g, schedule));
        int threads = schedule.Threads, block = BlockTiles(c, m, tiling.Count);
        long filters = Points * (long)m * c, perThread = filters + BlockScratch(c, m, tiling.Count);
        fixed (float* px = x, pdy = dy, pdw = dw, pws = workspace)
        {
            nint xp = (nint)px, dyp = (nint)pdy, wsp = (nint)pws;
            if (schedule.Shared)
            {
                // One dU: per block, V and Z split by channel (C + M of them), then each thread's points summed in.
                nint vp = wsp + (nint)(filters * sizeof(float)), zp = vp + (nint)(Points * (long)c * block * sizeof(float));
                ForBlocks(0, tiling.Count, block, (b0, len) =>
                {
                    Workers.For(c + m, (long)len * TransformWork, (a0, a1) =>
                    {
                        if (a0 < c) InputTransform((float*)xp, c, a0, Math.Min(a1, c), tiling, b0, len, (float*)vp);
                        if (a1 > c) GradientTransform((float*)dyp, m, Math.Max(a0, c) - c, a1 - c, tiling, b0, len, (float*)zp);
                    });
                    float beta = b0 == 0 ? 0 : 1;
                    Workers.For(Points, 2L * m * c * len, (p0, p1) =>
                    {
                        for (int p = p0; p < p1; p++)
                            WeightGemm((float*)zp, (float*)vp, (float*)wsp, m, c, len, p, beta, 1);
                    });
                });
                FilterGradient(wsp, 0, 1, m, c, (nint)pdw);
                return;
            }
            ForTileRanges(tiling.Count, threads, (t0, t1, thread, gemmThreads) =>
            {
                float* du = (float*)wsp + perThread * thread, v = du + filters, z = v + Points * (long)c * block;
                new Span<float>(du, (int)filters).Clear();
                ForBlocks(t0, t1, block, (b0, len) =>
                {
                    InputTransform((float*)xp, c, 0, c, tiling, b0, len, v);
                    GradientTransform((float*)dyp, m, 0, m, tiling, b0, len, z);
                    for (int p = 0; p < Points; p++) WeightGemm(z, v, du, m, c, len, p, 1, gemmThreads);
                });
            });
            FilterGradient((nint)pws, perThread, threads, m, c, (nint)pdw);
        }
    }

    /// <summary>
    /// dU[p] += Z[p]·V[p]ᵀ (after scaling dU[p] by beta): as M × C = (M × len)·(len × C), or, with fewer channels than
    /// filters, transposed as C × M = V[p]·Z[p]ᵀ, so the GEMM's columns are the wider side and fill its 32-wide micro-tiles.
    /// </summary>
    static void WeightGemm(float* z, float* v, float* du, int m, int c, int len, int p, float beta, int gemmThreads)
    {
        var zp = new ReadOnlySpan<float>(z + (long)p * m * len, m * len);
        var vp = new ReadOnlySpan<float>(v + (long)p * c * len, c * len);
        var dup = new Span<float>(du + (long)p * m * c, m * c);
        if (Transposed(m, c)) Gemm.Sgemm(false, true, c, m, len, 1, vp, len, zp, len, beta, dup, m, gemmThreads);
        else Gemm.Sgemm(false, true, m, c, len, 1, zp, len, vp, len, beta, dup, c, gemmThreads);
    }

    /// <summary>Whether dU is laid out [36][C][M] (fewer channels than filters) rather than [36][M][C].</summary>
    static bool Transposed(int filters, int channels) => channels < filters;

    /// <summary>Rough operations per tile and channel of a transform, for deciding whether to split one across threads.</summary>
    const long TransformWork = 100;

    /// <summary>
    /// The common driver of forward and input gradient: dst (outChannels) = conv(src (inChannels), filters u) over
    /// every tile, written (plus bias) or added. Scratch per block: V [36][inChannels][block], then M [36][outChannels][block].
    /// Images of dst lie <paramref name="dstImage"/> floats apart (0: outChannels planes, dense).
    /// </summary>
    static void Convolve(Tiling tiling, Schedule schedule, nint src, int inChannels, nint u, int outChannels, nint dst, nint bias, bool accumulate, nint scratch,
        nint finish = 0, long dstImage = 0, Gemm.PackedA[]? packed = null)
    {
        if (dstImage == 0) dstImage = (long)outChannels * tiling.Plane;
        int threads = schedule.Threads, block = BlockTiles(inChannels, outChannels, tiling.Count);
        long perThread = BlockScratch(inChannels, outChannels, tiling.Count);
        if (schedule.Shared)
        {
            nint mp = scratch + (nint)(Points * (long)inChannels * block * sizeof(float));
            ForBlocks(0, tiling.Count, block, (b0, len) =>
            {
                Workers.For(inChannels, (long)len * TransformWork, (c0, c1) =>
                    InputTransform((float*)src, inChannels, c0, c1, tiling, b0, len, (float*)scratch));
                Workers.For(Points, 2L * outChannels * inChannels * len, (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++) PointGemm((float*)u, packed, (float*)scratch, (float*)mp, inChannels, outChannels, len, p, 1);
                });
                Workers.For(outChannels, (long)len * TransformWork, (c0, c1) =>
                    OutputTransform((float*)mp, outChannels, c0, c1, tiling, b0, len, (float*)dst, dstImage, (float*)bias, accumulate, (ConvFinish*)finish));
            });
            return;
        }
        ForTileRanges(tiling.Count, threads, (t0, t1, thread, gemmThreads) =>
        {
            float* v = (float*)scratch + perThread * thread, mo = v + Points * (long)inChannels * block;
            ForBlocks(t0, t1, block, (b0, len) =>
            {
                InputTransform((float*)src, inChannels, 0, inChannels, tiling, b0, len, v);
                for (int p = 0; p < Points; p++) PointGemm((float*)u, packed, v, mo, inChannels, outChannels, len, p, gemmThreads);
                OutputTransform(mo, outChannels, 0, outChannels, tiling, b0, len, (float*)dst, dstImage, (float*)bias, accumulate, (ConvFinish*)finish);
            });
        });
    }

    /// <summary>
    /// M[p] (outChannels × len) = U[p] (outChannels × inChannels) · V[p] (inChannels × len); with <paramref name="packed"/>
    /// (<see cref="PackFilters"/>), U[p] as packed once rather than in every call.
    /// </summary>
    static void PointGemm(float* u, Gemm.PackedA[]? packed, float* v, float* mo, int inChannels, int outChannels, int len, int p, int gemmThreads)
    {
        // With at most DotMaxRows filters the plain call takes dot products: kept, so the two give the same sums.
        if (packed != null && outChannels > Gemm.DotMaxRows)
        {
            Gemm.Sgemm(packed[p], len, new ReadOnlySpan<float>(v + (long)p * inChannels * len, inChannels * len), len,
                new Span<float>(mo + (long)p * outChannels * len, outChannels * len), len, gemmThreads);
            return;
        }
        Gemm.Sgemm(false, false, outChannels, len, inChannels, 1,
            new ReadOnlySpan<float>(u + (long)p * outChannels * inChannels, outChannels * inChannels), inChannels,
            new ReadOnlySpan<float>(v + (long)p * inChannels * len, inChannels * len), len, 0,
            new Span<float>(mo + (long)p * outChannels * len, outChannels * len), len, gemmThreads);
    }

    /// <summary>
    /// The 36 matrices of filters transformed by <see cref="TransformFilters(in Conv2DGeometry, ReadOnlySpan{float})"/>
    /// (outChannels × inChannels each) packed for the GEMM once, for fixed weights: the per-point GEMMs of a small block
    /// (13×13 planes of two images: 32 tiles) spent as long packing them as multiplying.
    /// </summary>
    public static Gemm.PackedA[] PackFilters(in Conv2DGeometry g, ReadOnlySpan<float> transformed)
    {
        int m = g.OutChannels, c = g.InChannels;
        if (transformed.Length != Points * (long)m * c)
            throw new ArgumentException($"Transformed filters hold {transformed.Length} floats; {m}×{c} filters need {Points * (long)m * c}.", nameof(transformed));
        var packs = new Gemm.PackedA[Points];
        for (int p = 0; p < Points; p++) packs[p] = Gemm.Pack(transformed.Slice(p * m * c, m * c), m, c);
        return packs;
    }

    /// <summary>
    /// Calls body(t0, t1, thread, gemmThreads) for contiguous ranges of [0, count), one per thread, cut at multiples of
    /// <see cref="Strip"/>; GEMMs single-threaded, or on every core when there is one range.
    /// </summary>
    static void ForTileRanges(long count, int threads, Action<long, long, int, int> body)
    {
        if (threads <= 1) { body(0, count, 0, Workers.MaxThreads); return; }
        long strips = (count + Strip - 1) / Strip;
        Workers.Run(threads, t =>
        {
            long t0 = Math.Min(count, strips * t / threads * Strip), t1 = Math.Min(count, strips * (t + 1) / threads * Strip);
            if (t1 > t0) body(t0, t1, t, 1);
        });
    }

    /// <summary>Calls body(b0, len) for blocks of [t0, t1): as few as hold at most <paramref name="most"/> tiles, near-equal, multiples of <see cref="Strip"/> but the last.</summary>
    static void ForBlocks(long t0, long t1, int most, Action<long, int> body)
    {
        long range = t1 - t0, blocks = (range + most - 1) / most;
        int len = (int)Math.Min(most, ((range + blocks - 1) / blocks + Strip - 1) / Strip * Strip);
        for (long b0 = t0; b0 < t1; b0 += len) body(b0, (int)Math.Min(len, t1 - b0));
    }

    // ---- Filter transforms: lanes run across channels (or filters), where U's rows are contiguous ----

    /// <summary>
    /// U = G g Gᵀ for every filter m and channel c (G rows: (1/4, 0, 0), −(1, 1, 1)/6, −(1, −1, 1)/6, (1/24, 1/12, 1/6),
    /// (1/24, −1/12, 1/6), (0, 0, 1)). Plain: u[(ξ·M + m)·C + c] from w[m, c]; rotated (the input gradient's filters):
    /// u[(ξ·C + c)·M + m] from w[m, c] turned 180°. Rows of U (m, or c when rotated) are spread across threads.
    /// </summary>
    /// <summary>
    /// The forward pass's transformed filters U = G w Gᵀ ([36][M][C]) for w [M, C, 3, 3], to hand to
    /// <see cref="Forward"/> on every call while the weights stay fixed.
    /// </summary>
    public static float[] TransformFilters(in Conv2DGeometry g, ReadOnlySpan<float> w)
    {
        if (!Applies(g)) throw new ArgumentException($"Winograd F(4×4, 3×3) does not apply to {g}.");
        if (w.Length != (long)g.OutChannels * g.InChannels * 9) throw new ArgumentException($"The weights hold {w.Length} floats; {g} needs {(long)g.OutChannels * g.InChannels * 9}.", nameof(w));
        var u = new float[Points * (long)g.OutChannels * g.InChannels];
        fixed (float* pw = w, pu = u) TransformFilters((nint)pw, g.OutChannels, g.InChannels, (nint)pu, rotated: false);
        return u;
    }

    static void TransformFilters(nint wp, int filters, int channels, nint up, bool rotated)
    {
        int rows = rotated ? channels : filters, cols = rotated ? filters : channels;
        Workers.For(rows, (long)cols * 100, (a0, a1) =>
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated) j = FilterTiles<Lanes512>((float*)wp, filters, channels, (float*)up, rotated, a0, a1, j);
            else if (Vector256.IsHardwareAccelerated) j = FilterTiles<Lanes256>((float*)wp, filters, channels, (float*)up, rotated, a0, a1, j);
            FilterTiles<Lane1>((float*)wp, filters, channels, (float*)up, rotated, a0, a1, j);
        });
    }

    /// <summary>Rows [a0, a1) of U, columns b, b + L, … from b0 while a whole vector remains; returns the first column not done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int FilterTiles<T>(float* w, int filters, int channels, float* u, bool rotated, int a0, int a1, int b0) where T : unmanaged, ILanes<T>
    {
        int lanes = T.Count, cols = rotated ? filters : channels, b = b0;
        float* g = stackalloc float[9 * lanes];
        float* t = stackalloc float[18 * lanes];
        long planeStride = (long)filters * channels;
        for (int a = a0; a < a1; a++)
            for (b = b0; b + lanes <= cols; b += lanes)
            {
                // g[k·L + l] = tap k of the filter of lane l (rotated: tap 8 − k, the filter of m = b + l for channel a).
                for (int l = 0; l < lanes; l++)
                {
                    if (rotated)
                    {
                        float* src = w + ((long)(b + l) * channels + a) * 9;
                        for (int k = 0; k < 9; k++) g[k * lanes + l] = src[8 - k];
                    }
                    else
                    {
                        float* src = w + ((long)a * channels + b + l) * 9;
                        for (int k = 0; k < 9; k++) g[k * lanes + l] = src[k];
                    }
                }
                // Columns: t[i, v] = Σ_u G[i, u]·g[u, v]; rows: U[i·6 + j] = Σ_v t[i, v]·G[j, v].
                for (int v = 0; v < 3; v++) FilterStep<T>(g + v * lanes, 3 * lanes, t + v * lanes, 3 * lanes);
                float* dst = u + (long)a * cols + b;
                for (int i = 0; i < 6; i++) FilterStep<T>(t + i * 3 * lanes, lanes, dst + 6 * i * planeStride, planeStride);
            }
        return b;
    }

    /// <summary>G·(g0, g1, g2) for L filters: inputs at src + k·stride, six outputs at dst + i·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void FilterStep<T>(float* src, long stride, float* dst, long dstStride) where T : unmanaged, ILanes<T>
    {
        const float Sixth = 1f / 6, Twelfth = 1f / 12, TwentyFourth = 1f / 24;
        T g0 = T.Load(src), g1 = T.Load(src + stride), g2 = T.Load(src + 2 * stride);
        T outer = g0 + g2, even = T.MulAdd(g0, TwentyFourth, g2 * Sixth);
        T.Store(g0 * 0.25f, dst);                                   // g0/4
        T.Store((outer + g1) * -Sixth, dst + dstStride);            // −(g0 + g1 + g2)/6
        T.Store((outer - g1) * -Sixth, dst + 2 * dstStride);        // −(g0 − g1 + g2)/6
        T.Store(T.MulAdd(g1, Twelfth, even), dst + 3 * dstStride);  // g0/24 + g1/12 + g2/6
        T.Store(T.MulAdd(g1, -Twelfth, even), dst + 4 * dstStride); // g0/24 − g1/12 + g2/6
        T.Store(g2, dst + 5 * dstStride);                           // g2
    }

    /// <summary>
    /// dw[m, c] += Gᵀ (Σ_threads dU_t[·, m, c]) G, the partial sums dU_t [36][M][C] (or [36][C][M], see
    /// <see cref="Transposed"/>) lying <paramref name="stride"/> floats apart; rows of dU are spread across threads,
    /// lanes run along them.
    /// </summary>
    static void FilterGradient(nint partials, long stride, int threads, int filters, int channels, nint dwp)
    {
        bool transposed = Transposed(filters, channels);
        int rows = transposed ? channels : filters, cols = transposed ? filters : channels;
        Workers.For(rows, (long)cols * 100 * threads, (a0, a1) =>
        {
            int b = 0;
            if (Vector512.IsHardwareAccelerated) b = FilterGradientTiles<Lanes512>((float*)partials, stride, threads, filters, channels, transposed, (float*)dwp, a0, a1, b);
            else if (Vector256.IsHardwareAccelerated) b = FilterGradientTiles<Lanes256>((float*)partials, stride, threads, filters, channels, transposed, (float*)dwp, a0, a1, b);
            FilterGradientTiles<Lane1>((float*)partials, stride, threads, filters, channels, transposed, (float*)dwp, a0, a1, b);
        });
    }

    /// <summary>Rows [a0, a1) of dU, columns b, b + L, … from b0 while a whole vector remains; returns the first column not done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int FilterGradientTiles<T>(float* du, long stride, int threads, int filters, int channels, bool transposed, float* dw, int a0, int a1, int b0)
        where T : unmanaged, ILanes<T>
    {
        int lanes = T.Count, cols = transposed ? filters : channels, b = b0;
        float* e = stackalloc float[Points * lanes];
        float* t = stackalloc float[18 * lanes];
        float* r = stackalloc float[9 * lanes];
        long planeStride = (long)filters * channels;
        for (int a = a0; a < a1; a++)
            for (b = b0; b + lanes <= cols; b += lanes)
            {
                for (int p = 0; p < Points; p++)
                {
                    float* src = du + p * planeStride + (long)a * cols + b;
                    T sum = T.Load(src);
                    for (int th = 1; th < threads; th++) sum += T.Load(src + th * stride);
                    T.Store(sum, e + p * lanes);
                }
                // Columns of the 6×6: t[u, j] = Σ_i G[i, u]·e[i, j]; rows: r[u, v] = Σ_j t[u, j]·G[j, v].
                for (int j = 0; j < 6; j++) FilterGradientStep<T>(e + j * lanes, 6 * lanes, t + j * lanes, 6 * lanes);
                for (int k = 0; k < 3; k++) FilterGradientStep<T>(t + k * 6 * lanes, lanes, r + k * 3 * lanes, lanes);
                for (int l = 0; l < lanes; l++)
                {
                    float* dst = dw + (transposed ? (long)(b + l) * channels + a : (long)a * channels + b + l) * 9;
                    for (int k = 0; k < 9; k++) dst[k] += r[k * lanes + l];
                }
            }
        return b;
    }

    /// <summary>Gᵀ·(e0, …, e5) for L filters: inputs at src + i·stride, three outputs at dst + u·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void FilterGradientStep<T>(float* src, long stride, float* dst, long dstStride) where T : unmanaged, ILanes<T>
    {
        const float Sixth = 1f / 6, Twelfth = 1f / 12, TwentyFourth = 1f / 24;
        T e0 = T.Load(src), e1 = T.Load(src + stride), e2 = T.Load(src + 2 * stride);
        T e3 = T.Load(src + 3 * stride), e4 = T.Load(src + 4 * stride), e5 = T.Load(src + 5 * stride);
        T s12 = e1 + e2, s34 = e3 + e4;
        T.Store(T.MulAdd(s34, TwentyFourth, T.MulAdd(s12, -Sixth, e0 * 0.25f)), dst);   // e0/4 − (e1 + e2)/6 + (e3 + e4)/24
        T.Store(T.MulAdd(e3 - e4, Twelfth, (e2 - e1) * Sixth), dst + dstStride);         // (e2 − e1)/6 + (e3 − e4)/12
        T.Store(T.MulAdd(s34 - s12, Sixth, e5), dst + 2 * dstStride);                    // (e3 + e4 − e1 − e2)/6 + e5
    }

    // ---- Tile transforms, across tiles: lane l of every vector belongs to tile b0 + j + l ----
    // The vector paths move whole tile rows: a row of 8 (input) or 4 (output, output gradient) floats per tile is one
    // load or store, and 8 tiles' rows are transposed in registers into one vector per position. Rows that cross the
    // image edge are read with masked loads (vmaskmovps: masked-off lanes read as 0 and are never accessed).

    /// <summary>
    /// V[ξ, c, j] = (Bᵀ d B)[ξ] for the 6×6 input patch d of tile b0 + j (rows 4i − 1 …, columns 4k − 1 …, zero outside
    /// the image) and every channel c; V has row length len. Bᵀ rows: (4, 0, −5, 0, 1, 0), (0, −4, −4, 1, 1, 0),
    /// (0, 4, −4, −1, 1, 0), (0, −2, −1, 2, 1, 0), (0, 2, −1, −2, 1, 0), (0, 4, 0, −5, 0, 1).
    /// </summary>
    static void InputTransform(float* src, int channels, int c0, int c1, in Tiling tiling, long b0, int len, float* v)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = InputTiles<Lanes512>(src, channels, c0, c1, tiling, b0, j, len, v);
        else if (Vector256.IsHardwareAccelerated) j = InputTiles<Lanes256>(src, channels, c0, c1, tiling, b0, j, len, v);
        InputTiles<Lane1>(src, channels, c0, c1, tiling, b0, j, len, v);
    }

    /// <summary>Tiles j, j + L, … of the block while a whole vector of them remains, channels [c0, c1); returns the first tile not done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int InputTiles<T>(float* src, int channels, int c0, int c1, in Tiling tiling, long b0, int j, int len, float* v) where T : unmanaged, ILanes<T>
    {
        int lanes = T.Count, h = tiling.Height, w = tiling.Width, plane = tiling.Plane;
        bool vector = typeof(T) != typeof(Lane1);
        float* d = stackalloc float[Points * lanes];
        float* t = stackalloc float[Points * lanes];
        // Per lane: offset of the patch's top-left in a channel plane, and per patch row a mask of the 8 columns read.
        long* origin = stackalloc long[lanes];
        float* masks = stackalloc float[6 * 8 * lanes];
        long pointStride = (long)channels * len;
        if (j + lanes > len) return j;
        tiling.Locate(b0 + j, out int n, out int row, out int col);
        for (; j + lanes <= len; j += lanes)
        {
            bool inside = true;
            for (int l = 0; l < lanes; l++, tiling.Next(ref n, ref row, ref col))
            {
                origin[l] = (long)n * channels * plane + (long)(row - 1) * w + col - 1;
                // The vector path reads 8 columns per row (the patch's 6 and 2 more), so all 8 must lie in the row.
                int span = vector ? 8 : 6;
                bool rowsIn = row >= 1 && row + 5 <= h, colsIn = col >= 1 && col - 1 + span <= w;
                inside &= rowsIn && colsIn;
                for (int r = 0; r < 6; r++)
                {
                    bool rowIn = row - 1 + r >= 0 && row - 1 + r < h;
                    for (int s = 0; s < 8; s++)
                        masks[(l * 6 + r) * 8 + s] = rowIn && col - 1 + s >= 0 && col - 1 + s < w ? -1f : 0f;
                }
            }
            for (int c = c0; c < c1; c++)
            {
                float* image = src + (long)c * plane;
                if (vector)
                {
                    // d[(r·6 + s)·L + l] = x[top + r, left + s] of lane l's tile, by 8×8 transposes of the tiles' rows.
                    for (int half = 0; half < lanes; half += 8)
                    {
                        float* p0 = image + origin[half], p1 = image + origin[half + 1], p2 = image + origin[half + 2], p3 = image + origin[half + 3];
                        float* p4 = image + origin[half + 4], p5 = image + origin[half + 5], p6 = image + origin[half + 6], p7 = image + origin[half + 7];
                        float* out0 = d + half;
                        if (inside)
                            for (int r = 0; r < 6; r++, p0 += w, p1 += w, p2 += w, p3 += w, p4 += w, p5 += w, p6 += w, p7 += w, out0 += 6 * lanes)
                                Transpose8x6(Vector256.Load(p0), Vector256.Load(p1), Vector256.Load(p2), Vector256.Load(p3),
                                    Vector256.Load(p4), Vector256.Load(p5), Vector256.Load(p6), Vector256.Load(p7), out0, lanes);
                        else
                        {
                            float* m = masks + half * 48;
                            for (int r = 0; r < 6; r++, p0 += w, p1 += w, p2 += w, p3 += w, p4 += w, p5 += w, p6 += w, p7 += w, out0 += 6 * lanes, m += 8)
                                Transpose8x6(Avx.MaskLoad(p0, Vector256.Load(m)), Avx.MaskLoad(p1, Vector256.Load(m + 48)),
                                    Avx.MaskLoad(p2, Vector256.Load(m + 96)), Avx.MaskLoad(p3, Vector256.Load(m + 144)),
                                    Avx.MaskLoad(p4, Vector256.Load(m + 192)), Avx.MaskLoad(p5, Vector256.Load(m + 240)),
                                    Avx.MaskLoad(p6, Vector256.Load(m + 288)), Avx.MaskLoad(p7, Vector256.Load(m + 336)), out0, lanes);
                        }
                    }
                }
                else
                {
                    float* p = image + origin[0];
                    for (int r = 0; r < 6; r++, p += w)
                        for (int s = 0; s < 6; s++) d[r * 6 + s] = inside || masks[r * 8 + s] != 0 ? p[s] : 0;
                }
                // Columns then rows: t[k, s] = Σ_r Bᵀ[k, r]·d[r, s]; V[k·6 + i] = Σ_s t[k, s]·Bᵀ[i, s].
                for (int s = 0; s < 6; s++) InputStep<T>(d + s * lanes, 6 * lanes, t + s * lanes, 6 * lanes);
                float* dst = v + (long)c * len + j;
                for (int k = 0; k < 6; k++) InputStep<T>(t + k * 6 * lanes, lanes, dst + 6 * k * pointStride, pointStride);
            }
        }
        return j;
    }

    /// <summary>
    /// Eight rows (one per tile, positions 0–7) in, positions 0–5 out: dst[s·stride + l] = row_l[s], the 8×8 transpose
    /// of <see cref="Gemm"/>'s packing (unpack pairs, shuffle pairs of pairs, swap 128-bit halves) without the last two columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x6(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long stride)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // s0 = (r0₀ r1₀ r2₀ r3₀ | r0₄ r1₄ r2₄ r3₄), s4 the same for rows 4–7, and so on.
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20)); Avx.Store(dst + stride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * stride, Avx.Permute2x128(s2, s6, 0x20)); Avx.Store(dst + 3 * stride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * stride, Avx.Permute2x128(s0, s4, 0x31)); Avx.Store(dst + 5 * stride, Avx.Permute2x128(s1, s5, 0x31));
    }

    /// <summary>
    /// The in-lane 4×4 transpose of four registers: (a, b, c, d) with a = (a0 … a7) becomes o0 = (a0 b0 c0 d0 | a4 b4 c4 d4),
    /// o1 = (a1 b1 c1 d1 | a5 b5 c5 d5), o2 = (… 2 | … 6), o3 = (… 3 | … 7). It is its own inverse.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose4x4x2(ref Vector256<float> a, ref Vector256<float> b, ref Vector256<float> c, ref Vector256<float> d)
    {
        var t0 = Avx.UnpackLow(a, b); var t1 = Avx.UnpackHigh(a, b);
        var t2 = Avx.UnpackLow(c, d); var t3 = Avx.UnpackHigh(c, d);
        a = Avx.Shuffle(t0, t2, 0x44); b = Avx.Shuffle(t0, t2, 0xEE);
        c = Avx.Shuffle(t1, t3, 0x44); d = Avx.Shuffle(t1, t3, 0xEE);
    }

    /// <summary>Bᵀ·(d0, …, d5) for L tiles: inputs at src + i·stride, outputs at dst + i·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputStep<T>(float* src, long stride, float* dst, long dstStride) where T : unmanaged, ILanes<T>
    {
        T d0 = T.Load(src), d1 = T.Load(src + stride), d2 = T.Load(src + 2 * stride);
        T d3 = T.Load(src + 3 * stride), d4 = T.Load(src + 4 * stride), d5 = T.Load(src + 5 * stride);
        T.Store(T.MulAdd(d0, 4, T.MulAdd(d2, -5, d4)), dst);                          // 4d0 − 5d2 + d4
        T.Store(T.MulAdd(d1 + d2, -4, d3 + d4), dst + dstStride);                     // (d3 + d4) − 4(d1 + d2)
        T.Store(T.MulAdd(d1 - d2, 4, d4 - d3), dst + 2 * dstStride);                  // (d4 − d3) + 4(d1 − d2)
        T odd = d3 - d1, even = d4 - d2;
        T.Store(T.MulAdd(odd, 2, even), dst + 3 * dstStride);                         // (d4 − d2) + 2(d3 − d1)
        T.Store(T.MulAdd(odd, -2, even), dst + 4 * dstStride);                        // (d4 − d2) − 2(d3 − d1)
        T.Store(T.MulAdd(d1, 4, T.MulAdd(d3, -5, d5)), dst + 5 * dstStride);          // 4d1 − 5d3 + d5
    }

    /// <summary>
    /// Y = Aᵀ M A for tiles b0 + j (M[ξ, m, j], row length len) and every channel m, written to the tile's 4×4 outputs
    /// inside the image (plus bias[m] when bias is not null), or added to them; channels [c0, c1) of the block.
    /// Aᵀ rows: (1, 1, 1, 1, 1, 0), (0, 1, −1, 2, −2, 0), (0, 1, 1, 4, 4, 0), (0, 1, −1, 8, −8, 1).
    /// </summary>
    static void OutputTransform(float* mo, int channels, int c0, int c1, in Tiling tiling, long b0, int len, float* dst, long dstImage, float* bias, bool accumulate,
        ConvFinish* finish)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = OutputTiles<Lanes512>(mo, channels, c0, c1, tiling, b0, j, len, dst, dstImage, bias, accumulate, finish);
        else if (Vector256.IsHardwareAccelerated) j = OutputTiles<Lanes256>(mo, channels, c0, c1, tiling, b0, j, len, dst, dstImage, bias, accumulate, finish);
        OutputTiles<Lane1>(mo, channels, c0, c1, tiling, b0, j, len, dst, dstImage, bias, accumulate, finish);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int OutputTiles<T>(float* mo, int channels, int c0, int c1, in Tiling tiling, long b0, int j, int len, float* dst, long dstImage, float* bias,
        bool accumulate, ConvFinish* finish) where T : unmanaged, ILanes<T>
    {
        int lanes = T.Count, w = tiling.Width, plane = tiling.Plane;
        bool vector = typeof(T) != typeof(Lane1);
        float* t = stackalloc float[24 * lanes];
        float* y = stackalloc float[16 * lanes];
        long* origin = stackalloc long[lanes];
        int* rows = stackalloc int[lanes];
        int* cols = stackalloc int[lanes];
        long pointStride = (long)channels * len;
        // Without a residual (laid out as the image, not as the tiles) the bias and bounds go on the transform's own
        // vectors, a lane per tile, before the transpose: a quarter of the instructions of bounding each tile row.
        bool early = vector && !accumulate && finish != null && finish->Residual == null;
        if (j + lanes > len) return j;
        tiling.Locate(b0 + j, out int n, out int row, out int col);
        for (; j + lanes <= len; j += lanes)
        {
            bool whole = true;
            for (int l = 0; l < lanes; l++, tiling.Next(ref n, ref row, ref col))
            {
                origin[l] = n * dstImage + (long)row * w + col;
                rows[l] = Math.Min(4, tiling.Height - row);
                cols[l] = Math.Min(4, w - col);
                whole &= rows[l] == 4 && cols[l] == 4;
            }
            for (int c = c0; c < c1; c++)
            {
                float* src = mo + (long)c * len + j;
                // Columns then rows: t[i, s] = Σ_k Aᵀ[i, k]·M[k, s]; y[i·4 + q] = Σ_s t[i, s]·Aᵀ[q, s].
                for (int s = 0; s < 6; s++) OutputStep<T>(src + s * pointStride, 6 * pointStride, t + s * lanes, 6 * lanes);
                float b = bias == null || accumulate ? 0 : bias[c];
                if (early)
                    for (int i = 0; i < 4; i++) OutputStep<T>(t + i * 6 * lanes, lanes, y + i * 4 * lanes, lanes, T.Create(b), finish);
                else
                    for (int i = 0; i < 4; i++) OutputStep<T>(t + i * 6 * lanes, lanes, y + i * 4 * lanes, lanes);
                float* image = dst + (long)c * plane;
                if (!vector)
                {
                    float* p = image + origin[0];
                    for (int i = 0; i < rows[0]; i++, p += w)
                        for (int q = 0; q < cols[0]; q++)
                            p[q] = accumulate ? p[q] + y[i * 4 + q] : finish == null ? y[i * 4 + q] + b : finish->Apply(y[i * 4 + q] + b, p + q);
                    continue;
                }
                // Output row i of 8 tiles: the four values y[i·4 + q] across tiles, transposed into one 4-float row per
                // tile (tiles h, h + 4 in the low and high halves of o_h), each stored (or added) where it lies in the image.
                var rowBias = Vector256.Create(b);
                var rowFinish = early ? null : finish;
                for (int half = 0; half < lanes; half += 8)
                    for (int i = 0; i < 4; i++)
                    {
                        float* yi = y + i * 4 * lanes + half;
                        Vector256<float> o0 = Vector256.Load(yi), o1 = Vector256.Load(yi + lanes);
                        Vector256<float> o2 = Vector256.Load(yi + 2 * lanes), o3 = Vector256.Load(yi + 3 * lanes);
                        if (!early) { o0 += rowBias; o1 += rowBias; o2 += rowBias; o3 += rowBias; }
                        Transpose4x4x2(ref o0, ref o1, ref o2, ref o3);
                        long at = (long)i * w;
                        if (whole && !accumulate && rowFinish != null)
                        {
                            Put(image + origin[half] + at, o0.GetLower(), rowFinish); Put(image + origin[half + 1] + at, o1.GetLower(), rowFinish);
                            Put(image + origin[half + 2] + at, o2.GetLower(), rowFinish); Put(image + origin[half + 3] + at, o3.GetLower(), rowFinish);
                            Put(image + origin[half + 4] + at, o0.GetUpper(), rowFinish); Put(image + origin[half + 5] + at, o1.GetUpper(), rowFinish);
                            Put(image + origin[half + 6] + at, o2.GetUpper(), rowFinish); Put(image + origin[half + 7] + at, o3.GetUpper(), rowFinish);
                            continue;
                        }
                        if (whole && !accumulate)
                        {
                            o0.GetLower().Store(image + origin[half] + at); o1.GetLower().Store(image + origin[half + 1] + at);
                            o2.GetLower().Store(image + origin[half + 2] + at); o3.GetLower().Store(image + origin[half + 3] + at);
                            o0.GetUpper().Store(image + origin[half + 4] + at); o1.GetUpper().Store(image + origin[half + 5] + at);
                            o2.GetUpper().Store(image + origin[half + 6] + at); o3.GetUpper().Store(image + origin[half + 7] + at);
                            continue;
                        }
                        PutRow(image, origin, rows, cols, at, half, i, o0.GetLower(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 1, i, o1.GetLower(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 2, i, o2.GetLower(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 3, i, o3.GetLower(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 4, i, o0.GetUpper(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 5, i, o1.GetUpper(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 6, i, o2.GetUpper(), accumulate, rowFinish);
                        PutRow(image, origin, rows, cols, at, half + 7, i, o3.GetUpper(), accumulate, rowFinish);
                    }
            }
        }
        return j;
    }

    /// <summary>Row i of lane l's output tile: stored (or added) whole when it lies inside the image, else its first columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PutRow(float* image, long* origin, int* rows, int* cols, long at, int l, int i, Vector128<float> row, bool accumulate, ConvFinish* finish)
    {
        if (i >= rows[l]) return;
        float* p = image + origin[l] + at;
        if (cols[l] == 4)
        {
            if (finish != null && !accumulate) { Put(p, row, finish); return; }
            (accumulate ? Vector128.Load(p) + row : row).Store(p);
            return;
        }
        for (int q = 0; q < cols[l]; q++)
            p[q] = accumulate ? p[q] + row.GetElement(q) : finish == null ? row.GetElement(q) : finish->Apply(row.GetElement(q), p + q);
    }

    /// <summary>A tile row stored finished: residual at its own offset, then the bounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(float* p, Vector128<float> row, ConvFinish* finish) => finish->Apply(row, p).Store(p);

    /// <summary>
    /// <see cref="OutputStep{T}(float*, long, float*, long)"/> with each output then finished: + <paramref name="bias"/>,
    /// then <paramref name="finish"/>'s bounds (it has no residual), as they would be after the transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void OutputStep<T>(float* src, long stride, float* dst, long dstStride, T bias, ConvFinish* finish) where T : unmanaged, ILanes<T>
    {
        Output(src, stride, out T y0, out T y1, out T y2, out T y3);
        T.Store(finish->Bound(y0 + bias), dst); T.Store(finish->Bound(y1 + bias), dst + dstStride);
        T.Store(finish->Bound(y2 + bias), dst + 2 * dstStride); T.Store(finish->Bound(y3 + bias), dst + 3 * dstStride);
    }

    /// <summary>Aᵀ·(m0, …, m5) for L tiles: inputs at src + k·stride, outputs at dst + i·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void OutputStep<T>(float* src, long stride, float* dst, long dstStride) where T : unmanaged, ILanes<T>
    {
        Output(src, stride, out T y0, out T y1, out T y2, out T y3);
        T.Store(y0, dst); T.Store(y1, dst + dstStride); T.Store(y2, dst + 2 * dstStride); T.Store(y3, dst + 3 * dstStride);
    }

    /// <summary>Aᵀ·(m0, …, m5) for L tiles, inputs at src + k·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Output<T>(float* src, long stride, out T y0, out T y1, out T y2, out T y3) where T : unmanaged, ILanes<T>
    {
        T m0 = T.Load(src), m1 = T.Load(src + stride), m2 = T.Load(src + 2 * stride);
        T m3 = T.Load(src + 3 * stride), m4 = T.Load(src + 4 * stride), m5 = T.Load(src + 5 * stride);
        T s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        y0 = m0 + s12 + s34;                 // m0 + m1 + m2 + m3 + m4
        y1 = T.MulAdd(d34, 2, d12);          // (m1 − m2) + 2(m3 − m4)
        y2 = T.MulAdd(s34, 4, s12);          // (m1 + m2) + 4(m3 + m4)
        y3 = T.MulAdd(d34, 8, d12) + m5;     // (m1 − m2) + 8(m3 − m4) + m5
    }

    /// <summary>
    /// Z[ξ, m, j] = (A dY Aᵀ)[ξ] for the 4×4 output-gradient patch of tile b0 + j (zero past the image edge) and every
    /// channel m in [c0, c1); Z has row length len. A is Aᵀ transposed: (1, 0, 0, 0), (1, 1, 1, 1), (1, −1, 1, −1),
    /// (1, 2, 4, 8), (1, −2, 4, −8), (0, 0, 0, 1).
    /// </summary>
    static void GradientTransform(float* dy, int channels, int c0, int c1, in Tiling tiling, long b0, int len, float* z)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = GradientTiles<Lanes512>(dy, channels, c0, c1, tiling, b0, j, len, z);
        else if (Vector256.IsHardwareAccelerated) j = GradientTiles<Lanes256>(dy, channels, c0, c1, tiling, b0, j, len, z);
        GradientTiles<Lane1>(dy, channels, c0, c1, tiling, b0, j, len, z);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int GradientTiles<T>(float* dy, int channels, int c0, int c1, in Tiling tiling, long b0, int j, int len, float* z) where T : unmanaged, ILanes<T>
    {
        int lanes = T.Count, h = tiling.Height, w = tiling.Width, plane = tiling.Plane;
        bool vector = typeof(T) != typeof(Lane1);
        float* d = stackalloc float[16 * lanes];
        float* t = stackalloc float[24 * lanes];
        long* origin = stackalloc long[lanes];
        // Per lane and patch row: a mask of the 4 columns inside the image (all clear for rows past the bottom edge).
        float* masks = stackalloc float[16 * lanes];
        long pointStride = (long)channels * len;
        if (j + lanes > len) return j;
        tiling.Locate(b0 + j, out int n, out int row, out int col);
        for (; j + lanes <= len; j += lanes)
        {
            bool inside = true;
            for (int l = 0; l < lanes; l++, tiling.Next(ref n, ref row, ref col))
            {
                origin[l] = (long)n * channels * plane + (long)row * w + col;
                inside &= row + 4 <= h && col + 4 <= w;
                for (int i = 0; i < 4; i++)
                    for (int q = 0; q < 4; q++) masks[(l * 4 + i) * 4 + q] = row + i < h && col + q < w ? -1f : 0f;
            }
            for (int c = c0; c < c1; c++)
            {
                float* image = dy + (long)c * plane;
                if (vector)
                {
                    // d[(i·4 + q)·L + l] = dy[row + i, col + q] of lane l's tile: per row i, tiles h and h + 4 share a
                    // register (low and high half), and the in-lane 4×4 transpose gives one register per column q.
                    for (int half = 0; half < lanes; half += 8)
                        for (int i = 0; i < 4; i++)
                        {
                            long at = (long)i * w;
                            Vector256<float> a, b, cc, e;
                            if (inside)
                            {
                                a = Vector256.Create(Vector128.Load(image + origin[half] + at), Vector128.Load(image + origin[half + 4] + at));
                                b = Vector256.Create(Vector128.Load(image + origin[half + 1] + at), Vector128.Load(image + origin[half + 5] + at));
                                cc = Vector256.Create(Vector128.Load(image + origin[half + 2] + at), Vector128.Load(image + origin[half + 6] + at));
                                e = Vector256.Create(Vector128.Load(image + origin[half + 3] + at), Vector128.Load(image + origin[half + 7] + at));
                            }
                            else
                            {
                                float* m = masks + (half * 4 + i) * 4;
                                a = Vector256.Create(Avx.MaskLoad(image + origin[half] + at, Vector128.Load(m)), Avx.MaskLoad(image + origin[half + 4] + at, Vector128.Load(m + 64)));
                                b = Vector256.Create(Avx.MaskLoad(image + origin[half + 1] + at, Vector128.Load(m + 16)), Avx.MaskLoad(image + origin[half + 5] + at, Vector128.Load(m + 80)));
                                cc = Vector256.Create(Avx.MaskLoad(image + origin[half + 2] + at, Vector128.Load(m + 32)), Avx.MaskLoad(image + origin[half + 6] + at, Vector128.Load(m + 96)));
                                e = Vector256.Create(Avx.MaskLoad(image + origin[half + 3] + at, Vector128.Load(m + 48)), Avx.MaskLoad(image + origin[half + 7] + at, Vector128.Load(m + 112)));
                            }
                            Transpose4x4x2(ref a, ref b, ref cc, ref e);
                            float* di = d + i * 4 * lanes + half;
                            a.Store(di); b.Store(di + lanes); cc.Store(di + 2 * lanes); e.Store(di + 3 * lanes);
                        }
                }
                else
                {
                    float* p = image + origin[0];
                    for (int i = 0; i < 4; i++, p += w)
                        for (int q = 0; q < 4; q++) d[i * 4 + q] = inside || masks[i * 4 + q] != 0 ? p[q] : 0;
                }
                // Columns then rows: t[k, q] = Σ_i A[k, i]·d[i, q]; Z[k·6 + s] = Σ_q t[k, q]·A[s, q].
                for (int q = 0; q < 4; q++) GradientStep<T>(d + q * lanes, 4 * lanes, t + q * lanes, 4 * lanes);
                float* dst = z + (long)c * len + j;
                for (int k = 0; k < 6; k++) GradientStep<T>(t + k * 4 * lanes, lanes, dst + 6 * k * pointStride, pointStride);
            }
        }
        return j;
    }

    /// <summary>A·(z0, …, z3) for L tiles: inputs at src + i·stride, six outputs at dst + k·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradientStep<T>(float* src, long stride, float* dst, long dstStride) where T : unmanaged, ILanes<T>
    {
        T z0 = T.Load(src), z1 = T.Load(src + stride), z2 = T.Load(src + 2 * stride), z3 = T.Load(src + 3 * stride);
        T s02 = z0 + z2, s13 = z1 + z3;
        T near = T.MulAdd(z2, 4, z0), far = T.MulAdd(z3, 4, z1) * 2;
        T.Store(z0, dst);                                   // z0
        T.Store(s02 + s13, dst + dstStride);                // z0 + z1 + z2 + z3
        T.Store(s02 - s13, dst + 2 * dstStride);            // z0 − z1 + z2 − z3
        T.Store(near + far, dst + 3 * dstStride);           // z0 + 2z1 + 4z2 + 8z3
        T.Store(near - far, dst + 4 * dstStride);           // z0 − 2z1 + 4z2 − 8z3
        T.Store(z3, dst + 5 * dstStride);                   // z3
    }
}
