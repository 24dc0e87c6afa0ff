using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Forward of convolutions with few unfolded rows (C·KH·KW ≤ <see cref="MaxRows"/>, such as a first layer on RGB
/// images, or up to <see cref="MaxImageRows"/> for a wide layer on an image's channels), one output row at a time: the
/// row's unfolded columns (rows × OW, read in place from a ring of input rows for strides 1 and 2 along the row, see
/// <see cref="ReadsRows"/>, else unfolded into a block small enough to stay in L1 or L2), then every
/// filter's output row from them, eight filters at a time in registers — no packing and no GEMM, whose per-call
/// overheads dominate at such a short depth (a 3×3 stride-2 first layer on RGB ran 2–3× faster than through im2col + GEMM). y[m, p] = bias[m] + Σ_r w[m, r]·col[r, p], summed in r order with fused
/// multiply-adds. <see cref="Reference.ReferenceConv2D"/> is the plain loop it must equal.
/// </summary>
public static unsafe class FewChannelConv2D
{
    /// <summary>Most unfolded rows (C·KH·KW) this kernel takes in general: a 3×3 layer on 3 channels has 27.</summary>
    public const int MaxRows = 32;

    /// <summary>
    /// Most unfolded rows for a layer on an image's channels (at most <see cref="ImageChannels"/>) with output rows of
    /// at least <see cref="MinWideRow"/>: ResNet's 7×7 stride-2 stem on RGB has 147, whose row block (66 KB) stays in
    /// L2. One thread, that stem at batch 1: 2.6 ms here against 2.9 through im2col and GEMM; two threads 1.4–1.8 against
    /// 2.3 and more (the GEMM splits a batch-1 image's columns).
    /// </summary>
    public const int MaxImageRows = 160;

    /// <summary>Input channels of an image (gray, RGB, RGBA): layers on at most this many may take <see cref="MaxImageRows"/>.</summary>
    public const int ImageChannels = 4;

    /// <summary>Fewest output columns for <see cref="MaxImageRows"/>: narrower rows fill the 16-lane vectors poorly.</summary>
    public const int MinWideRow = 32;

    /// <summary>How many output rows ahead the input rows are prefetched.</summary>
    const int PrefetchRowsAhead = 2;

    /// <summary>Fewest filters: below, the im2col + GEMM path is as good.</summary>
    public const int MinFilters = 8;

    /// <summary>Filters computed together from one load of each unfolded column vector.</summary>
    const int FilterBlock = 8;

    /// <summary>Whether <see cref="Forward"/> takes this geometry.</summary>
    public static bool Applies(in Conv2DGeometry g) =>
        g.Groups == 1 && !g.IsPointwise && g.OutChannels >= MinFilters && g.DilationH == 1 && g.DilationW == 1
        && (g.Rows <= MaxRows || (g.InChannels <= ImageChannels && g.Rows <= MaxImageRows && g.OutWidth >= MinWideRow));

    /// <summary>
    /// Row length of one thread's unfolded block: the output width rounded up to whole vectors (16 floats where 512-bit
    /// vectors are accelerated, so a row's last 16-lane load stays inside the row).
    /// </summary>
    static int Stride(in Conv2DGeometry g)
    {
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count;
        return (g.OutWidth + lanes - 1) / lanes * lanes;
    }

    /// <summary>Threads for a call: one range of output rows each, at most one per row.</summary>
    public static int Threads(in Conv2DGeometry g) => (int)Math.Max(1, Math.Min(Workers.MaxThreads, (long)g.Batch * g.OutHeight));

    /// <summary>
    /// Scratch floats <see cref="Forward"/> needs with <paramref name="threads"/> threads: one ring of prepared input
    /// rows each (<see cref="ReadsRows"/>), else one unfolded row block each.
    /// </summary>
    public static long WorkspaceLength(in Conv2DGeometry g, int threads) => PerThread(g) * threads;

    static long PerThread(in Conv2DGeometry g) => ReadsRows(g) ? new RowRing(g).Floats : (long)g.Rows * Stride(g);

    /// <summary>
    /// Whether the filters read the input rows in place (stride 1 or 2 along the row) rather than an unfolded block:
    /// each unfolded row (c, u, v) of an output row is a pointer into input row yy = oy·sh − pt + u of channel c,
    /// which is copied once into a ring of <see cref="Conv2DGeometry.KernelH"/> rows with its padding as zeros —
    /// and for stride 2 split into its even and odd columns, so that tap v's columns 2j + v − pl are one of the two
    /// halves shifted by ⌊(v − pl) / 2⌋. The unfolding wrote C·KH·KW floats per output position (147 for ResNet's 7×7
    /// stem, where it took 41 % of the layer's samples on one thread); the ring copies each input row once. One thread,
    /// batch 1, hot caches: ResNet-18's stem 1.42–1.46 → 1.18 ms, MobileNetV2's 0.17–0.20 → 0.15, SqueezeNet's 0.29 → 0.26.
    /// The same sums in the same order as from the unfolded block: the same bits.
    /// </summary>
    internal static bool ReadsRows(in Conv2DGeometry g) => g.StrideW is 1 or 2 && g.DilationW == 1 && g.DilationH == 1;

    /// <summary>
    /// The ring of prepared input rows of one thread: <see cref="Conv2DGeometry.KernelH"/> slots (input row yy in slot
    /// yy mod KH, so the KH rows an output row reads are in distinct slots), each holding every channel's row in
    /// <see cref="Phases"/> halves of <see cref="Length"/> floats, then one zero row for the padded rows above and below.
    /// </summary>
    readonly struct RowRing
    {
        /// <summary>1 for stride 1 (the row as it is), 2 for stride 2 (even columns, then odd ones).</summary>
        public readonly int Phases;
        /// <summary>Zeros before column 0 of a half: the left padding (stride 1) or half of it rounded up (stride 2).</summary>
        public readonly int Margin;
        /// <summary>Floats of one half: its margin, its data and zeros past them, enough for every tap's reads up to the row stride.</summary>
        public readonly int Length;
        public readonly int Slots, Channels;

        public RowRing(in Conv2DGeometry g)
        {
            int ld = Stride(g);
            Phases = g.StrideW;
            Slots = g.KernelH; Channels = g.InChannels;
            if (Phases == 1)
            {
                Margin = g.PadLeft;
                Length = Math.Max(ld + g.KernelW, g.PadLeft + g.InWidth);
            }
            else
            {
                Margin = (g.PadLeft + 1) / 2;
                int last = (g.KernelW - 1 - g.PadLeft) >> 1;   // the largest shift ⌊(v − pl) / 2⌋
                Length = Math.Max(Margin + (g.InWidth + 1) / 2, Margin + Math.Max(last, 0) + ld);
            }
            Length = (Length + 15) / 16 * 16;
        }

        long Row => (long)Phases * Length;
        /// <summary>Floats of the ring with its zero row.</summary>
        public long Floats => (Slots * (long)Channels + 1) * Row;

        /// <summary>Points the unfolded rows of output row <paramref name="oy"/> of image <paramref name="n"/> into the ring, preparing the input rows it lacks.</summary>
        public void Point(in Conv2DGeometry g, float* ring, long* tags, float* x, int n, int oy, float** rows)
        {
            int h = g.InHeight, wd = g.InWidth, kh = g.KernelH, kw = g.KernelW, plane = h * wd;
            float* zero = ring + (long)Slots * Channels * Row;
            for (int u = 0; u < kh; u++)
            {
                int yy = oy * g.StrideH - g.PadTop + u;
                bool inside = yy >= 0 && yy < h;
                int slot = inside ? yy % kh : 0;
                if (inside && tags[slot] != (long)n * h + yy)
                {
                    for (int c = 0; c < Channels; c++) Prepare(x + ((long)n * Channels + c) * plane + (long)yy * wd, wd, ring + ((long)slot * Channels + c) * Row);
                    tags[slot] = (long)n * h + yy;
                }
                for (int c = 0; c < Channels; c++)
                {
                    float* half = inside ? ring + ((long)slot * Channels + c) * Row : zero;
                    float** r = rows + (c * kh + u) * kw;
                    for (int v = 0; v < kw; v++)
                    {
                        int t = v - g.PadLeft;
                        r[v] = Phases == 1 ? half + v : half + ((t & 1) == 1 ? Length : 0) + Margin + (t >> 1);
                    }
                }
            }
        }

        /// <summary>One channel's input row into its slot: padded with zeros, for stride 2 as its even then its odd columns.</summary>
        void Prepare(float* src, int wd, float* dst)
        {
            var source = new ReadOnlySpan<float>(src, wd);
            if (Phases == 1)
            {
                new Span<float>(dst, Margin).Clear();
                source.CopyTo(new Span<float>(dst + Margin, wd));
                new Span<float>(dst + Margin + wd, Length - Margin - wd).Clear();
                return;
            }
            int even = (wd + 1) / 2, odd = wd / 2;
            new Span<float>(dst, Margin).Clear();
            Conv2D.GatherEven(source, new Span<float>(dst + Margin, even));
            new Span<float>(dst + Margin + even, Length - Margin - even).Clear();
            float* o = dst + Length;
            new Span<float>(o, Margin).Clear();
            if (odd > 0) Conv2D.GatherEven(source[1..], new Span<float>(o + Margin, odd));
            new Span<float>(o + Margin + odd, Length - Margin - odd).Clear();
        }

        /// <summary>Clears the zero row and marks every slot empty.</summary>
        public void Reset(float* ring, long* tags)
        {
            new Span<float>(ring + (long)Slots * Channels * Row, (int)Row).Clear();
            for (int i = 0; i < Slots; i++) tags[i] = -1;
        }
    }

    /// <summary>
    /// y = clamp(conv(x, w) + bias + residual); x NCHW, w [M, C, KH, KW], bias length M or empty, y [N, M, OH, OW],
    /// <paramref name="residual"/> empty or shaped as y, <paramref name="clamp"/> the bounds (none when null). The
    /// residual and bounds are applied to an output row of every filter right after it is computed, while it is in cache.
    /// </summary>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> workspace,
        ReadOnlySpan<float> residual = default, ConvClamp? clamp = null)
    {
        if (!Applies(g)) throw new ArgumentException($"The few-channel convolution does not apply to {g}.");
        int threads = Threads(g);
        long need = WorkspaceLength(g, threads);
        if (workspace.Length < need)
            throw new ArgumentException($"The convolution workspace holds {workspace.Length} floats; {threads} threads need {need} (was it sized for fewer threads?).");
        if (!residual.IsEmpty && residual.Length < (long)g.Batch * g.OutChannels * g.Positions)
            throw new ArgumentException($"The residual holds {residual.Length} values; the output has {(long)g.Batch * g.OutChannels * g.Positions}.", nameof(residual));
        fixed (float* px = x, pw = w, pb = bias, py = y, pws = workspace, pr = residual)
        {
            var geo = g;
            nint xp = (nint)px, wp = (nint)pw, bp = bias.IsEmpty ? 0 : (nint)pb, yp = (nint)py, wsp = (nint)pws;
            var finish = new ConvFinish(null, pr, py, clamp ?? ConvClamp.None);
            long rowsAll = (long)g.Batch * g.OutHeight, scratch = PerThread(g);
            bool inPlace = ReadsRows(g);
            void Range(int t)
            {
                long r0 = rowsAll * t / threads, r1 = rowsAll * (t + 1) / threads;
                float* col = (float*)wsp + scratch * t;
                float** rows = stackalloc float*[geo.Rows];
                long* tags = stackalloc long[geo.KernelH];
                var ring = new RowRing(geo);
                if (inPlace) ring.Reset(col, tags);
                else
                {
                    // The padding columns past OW are read by the last register of a row: keep them finite.
                    new Span<float>(col, (int)scratch).Clear();
                    for (int q = 0; q < geo.Rows; q++) rows[q] = col + (long)q * Stride(geo);
                }
                for (long r = r0; r < r1; r++)
                {
                    int n = (int)(r / geo.OutHeight), oy = (int)(r % geo.OutHeight);
                    if (inPlace) ring.Point(geo, col, tags, (float*)xp, n, oy, rows);
                    OutputRow(geo, n, oy, (float*)xp, (float*)wp, (float*)bp, (float*)yp, inPlace ? null : col, rows, finish);
                }
            }
            if (threads == 1) Range(0);
            else Workers.Run(threads, Range);
        }
    }

    /// <summary>
    /// Every filter's output row <paramref name="oy"/> of image <paramref name="n"/> from the unfolded rows at
    /// <paramref name="rows"/>: pointers into the ring (<paramref name="col"/> null) or, unfolded here first, into <paramref name="col"/>.
    /// </summary>
    static void OutputRow(in Conv2DGeometry g, int n, int oy, float* x, float* w, float* bias, float* y, float* col, float** rows, in ConvFinish finish)
    {
        int ow = g.OutWidth, ld = Stride(g), plane = g.InHeight * g.InWidth;
        // The input rows a later output row adds, asked for into L2 while this one is computed.
        int ahead = oy + PrefetchRowsAhead;
        if (ahead < g.OutHeight && Sse.IsSupported)
        {
            int first = ahead * g.StrideH - g.PadTop + (ahead > 0 ? g.KernelH - g.StrideH : 0), last = ahead * g.StrideH - g.PadTop + g.KernelH;
            for (int c = 0; c < g.InChannels; c++)
                for (int iy = Math.Max(0, first); iy < Math.Min(g.InHeight, last); iy++)
                {
                    float* row = x + ((long)n * g.InChannels + c) * plane + (long)iy * g.InWidth;
                    for (int q = 0; q < g.InWidth; q += 16) Sse.Prefetch1(row + q);
                }
        }
        if (col != null)
            Conv2D.Im2ColRange(g, new ReadOnlySpan<float>(x + (long)n * g.InChannels * plane, g.InChannels * plane),
                new Span<float>(col, g.Rows * ld), oy * ow, (oy + 1) * ow, ld);
        float* yRow = y + (long)n * g.OutChannels * g.Positions + (long)oy * ow;
        // Bounds alone go into the registers before each store; a residual, added before them, takes the pass over
        // each filter's row (a pass per row for bounds alone cost the stems of MobileNetV2 and SqueezeNet a third).
        // (The finish holds no bias: the accumulators start from it.)
        bool inRegisters = finish.Residual == null;
        Filters(g, w, bias, rows, yRow, inRegisters ? finish : default);
        if (!inRegisters)
            for (int m = 0; m < g.OutChannels; m++) finish.ApplyInPlace(yRow + (long)m * g.Positions, ow, 0);
    }

    /// <summary>
    /// Every filter's output row from the unfolded block: <see cref="FilterBlock"/> filters per pass over it, one
    /// vector of columns at a time (each column vector loaded once for all of them), then one filter at a time for the
    /// rest. Where 512-bit vectors are hardware-accelerated, the columns go 32 and then 16 at a time in zmm registers
    /// first (<see cref="Filters512x2"/>, <see cref="Filters512"/>): <see cref="Vector{T}"/> stays 256 bits wide there, half of
    /// what a full-width AVX-512 core multiplies per instruction. Plain vector code: the same kernel through the
    /// <c>ILanes</c> wrappers ran 2× slower here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Filters(in Conv2DGeometry g, float* w, float* bias, float** col, float* yRow, in ConvFinish bounds)
    {
        int ow = g.OutWidth, rows = g.Rows, m = g.OutChannels, positions = g.Positions, lanes = Vector<float>.Count;
        float* tail = stackalloc float[FilterBlock * Vector<float>.Count];
        int m0 = 0;
        for (; m0 + FilterBlock <= m; m0 += FilterBlock)
        {
            float* wb = w + (long)m0 * rows, yb = yRow + (long)m0 * positions;
            int q = 0;
            // With AVX-512: two 16-lane column vectors per pass in the 32 zmm registers, 16 accumulators, each weight
            // broadcast serving two multiply-adds; then one 16-lane vector; the rest in Vector<float> lanes below.
            if (Vector512.IsHardwareAccelerated)
            {
                for (; q + 32 <= ow; q += 32) Filters512x2(w + (long)m0 * rows, bias, m0, col, q, yb + q, rows, positions, bounds);
                for (; q + 16 <= ow; q += 16) Filters512(w + (long)m0 * rows, bias, m0, col, q, yb + q, rows, positions, bounds);
                // The last columns as one 16-lane vector, stored masked (SqueezeNet's 111-wide rows end in 15: two
                // 8-lane passes there took a fifth of the layer).
                if (q < ow) { Filters512(w + (long)m0 * rows, bias, m0, col, q, yb + q, rows, positions, bounds, ow - q); q = ow; }
            }
            for (; q < ow; q += lanes)
            {
                Vector<float> a0 = Bias(bias, m0), a1 = Bias(bias, m0 + 1), a2 = Bias(bias, m0 + 2), a3 = Bias(bias, m0 + 3),
                              a4 = Bias(bias, m0 + 4), a5 = Bias(bias, m0 + 5), a6 = Bias(bias, m0 + 6), a7 = Bias(bias, m0 + 7);
                float* wr = wb;
                for (int r = 0; r < rows; r++, wr++)
                {
                    var v = Vector.Load(col[r] + q);
                    a0 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[0]), a0);
                    a1 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[rows]), a1);
                    a2 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[2 * rows]), a2);
                    a3 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[3 * rows]), a3);
                    a4 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[4 * rows]), a4);
                    a5 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[5 * rows]), a5);
                    a6 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[6 * rows]), a6);
                    a7 = Vector.FusedMultiplyAdd(v, new Vector<float>(wr[7 * rows]), a7);
                }
                a0 = bounds.Apply(a0, 0, null); a1 = bounds.Apply(a1, 0, null); a2 = bounds.Apply(a2, 0, null); a3 = bounds.Apply(a3, 0, null);
                a4 = bounds.Apply(a4, 0, null); a5 = bounds.Apply(a5, 0, null); a6 = bounds.Apply(a6, 0, null); a7 = bounds.Apply(a7, 0, null);
                // A whole vector goes straight to y; the last, partial one through the tail buffer.
                bool whole = q + lanes <= ow;
                float* o = whole ? yb + q : tail;
                long step = whole ? positions : lanes;
                Vector.Store(a0, o); Vector.Store(a1, o + step); Vector.Store(a2, o + 2 * step); Vector.Store(a3, o + 3 * step);
                Vector.Store(a4, o + 4 * step); Vector.Store(a5, o + 5 * step); Vector.Store(a6, o + 6 * step); Vector.Store(a7, o + 7 * step);
                if (!whole)
                    for (int j = 0; j < FilterBlock; j++)
                        new ReadOnlySpan<float>(tail + j * lanes, ow - q).CopyTo(new Span<float>(yb + (long)j * positions + q, ow - q));
            }
        }
        for (; m0 < m; m0++)
        {
            float* w0 = w + (long)m0 * rows, y0 = yRow + (long)m0 * positions;
            for (int q = 0; q < ow; q += lanes)
            {
                var a0 = Bias(bias, m0);
                for (int r = 0; r < rows; r++) a0 = Vector.FusedMultiplyAdd(Vector.Load(col[r] + q), new Vector<float>(w0[r]), a0);
                a0 = bounds.Apply(a0, 0, null);
                if (q + lanes <= ow) Vector.Store(a0, y0 + q);
                else
                {
                    Vector.Store(a0, tail);
                    new ReadOnlySpan<float>(tail, ow - q).CopyTo(new Span<float>(y0 + q, ow - q));
                }
            }
        }
    }

    /// <summary>Eight filters' outputs at 32 consecutive positions (two zmm vectors each) from columns q onward of the unfolded rows <paramref name="col"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Filters512x2(float* wb, float* bias, int m0, float** col, int q, float* o, int rows, int positions, in ConvFinish bounds)
    {
        Vector512<float> a0 = Bias512(bias, m0), a1 = Bias512(bias, m0 + 1), a2 = Bias512(bias, m0 + 2), a3 = Bias512(bias, m0 + 3),
                         a4 = Bias512(bias, m0 + 4), a5 = Bias512(bias, m0 + 5), a6 = Bias512(bias, m0 + 6), a7 = Bias512(bias, m0 + 7);
        Vector512<float> e0 = a0, e1 = a1, e2 = a2, e3 = a3, e4 = a4, e5 = a5, e6 = a6, e7 = a7;
        float* wr = wb;
        for (int r = 0; r < rows; r++, wr++)
        {
            float* c = col[r] + q;
            var v = Vector512.Load(c); var u = Vector512.Load(c + 16);
            var k = Vector512.Create(wr[0]); a0 = Vector512.FusedMultiplyAdd(v, k, a0); e0 = Vector512.FusedMultiplyAdd(u, k, e0);
            k = Vector512.Create(wr[rows]); a1 = Vector512.FusedMultiplyAdd(v, k, a1); e1 = Vector512.FusedMultiplyAdd(u, k, e1);
            k = Vector512.Create(wr[2 * rows]); a2 = Vector512.FusedMultiplyAdd(v, k, a2); e2 = Vector512.FusedMultiplyAdd(u, k, e2);
            k = Vector512.Create(wr[3 * rows]); a3 = Vector512.FusedMultiplyAdd(v, k, a3); e3 = Vector512.FusedMultiplyAdd(u, k, e3);
            k = Vector512.Create(wr[4 * rows]); a4 = Vector512.FusedMultiplyAdd(v, k, a4); e4 = Vector512.FusedMultiplyAdd(u, k, e4);
            k = Vector512.Create(wr[5 * rows]); a5 = Vector512.FusedMultiplyAdd(v, k, a5); e5 = Vector512.FusedMultiplyAdd(u, k, e5);
            k = Vector512.Create(wr[6 * rows]); a6 = Vector512.FusedMultiplyAdd(v, k, a6); e6 = Vector512.FusedMultiplyAdd(u, k, e6);
            k = Vector512.Create(wr[7 * rows]); a7 = Vector512.FusedMultiplyAdd(v, k, a7); e7 = Vector512.FusedMultiplyAdd(u, k, e7);
        }
        a0 = bounds.Apply(a0, 0, null); a1 = bounds.Apply(a1, 0, null); a2 = bounds.Apply(a2, 0, null); a3 = bounds.Apply(a3, 0, null);
        a4 = bounds.Apply(a4, 0, null); a5 = bounds.Apply(a5, 0, null); a6 = bounds.Apply(a6, 0, null); a7 = bounds.Apply(a7, 0, null);
        e0 = bounds.Apply(e0, 0, null); e1 = bounds.Apply(e1, 0, null); e2 = bounds.Apply(e2, 0, null); e3 = bounds.Apply(e3, 0, null);
        e4 = bounds.Apply(e4, 0, null); e5 = bounds.Apply(e5, 0, null); e6 = bounds.Apply(e6, 0, null); e7 = bounds.Apply(e7, 0, null);
        a0.Store(o); a1.Store(o + positions); a2.Store(o + 2 * positions); a3.Store(o + 3 * positions);
        a4.Store(o + 4 * positions); a5.Store(o + 5 * positions); a6.Store(o + 6 * positions); a7.Store(o + 7 * positions);
        o += 16;
        e0.Store(o); e1.Store(o + positions); e2.Store(o + 2 * positions); e3.Store(o + 3 * positions);
        e4.Store(o + 4 * positions); e5.Store(o + 5 * positions); e6.Store(o + 6 * positions); e7.Store(o + 7 * positions);
    }

    /// <summary>
    /// Eight filters' outputs at 16 consecutive positions (one zmm vector each); with <paramref name="count"/> below 16,
    /// only the first <paramref name="count"/> of them are stored (the 16 column loads stay inside the block's row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Filters512(float* wb, float* bias, int m0, float** col, int q, float* o, int rows, int positions, in ConvFinish bounds, int count = 16)
    {
        Vector512<float> a0 = Bias512(bias, m0), a1 = Bias512(bias, m0 + 1), a2 = Bias512(bias, m0 + 2), a3 = Bias512(bias, m0 + 3),
                         a4 = Bias512(bias, m0 + 4), a5 = Bias512(bias, m0 + 5), a6 = Bias512(bias, m0 + 6), a7 = Bias512(bias, m0 + 7);
        float* wr = wb;
        for (int r = 0; r < rows; r++, wr++)
        {
            var v = Vector512.Load(col[r] + q);
            a0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[0]), a0);
            a1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[rows]), a1);
            a2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[2 * rows]), a2);
            a3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[3 * rows]), a3);
            a4 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[4 * rows]), a4);
            a5 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[5 * rows]), a5);
            a6 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[6 * rows]), a6);
            a7 = Vector512.FusedMultiplyAdd(v, Vector512.Create(wr[7 * rows]), a7);
        }
        a0 = bounds.Apply(a0, 0, null); a1 = bounds.Apply(a1, 0, null); a2 = bounds.Apply(a2, 0, null); a3 = bounds.Apply(a3, 0, null);
        a4 = bounds.Apply(a4, 0, null); a5 = bounds.Apply(a5, 0, null); a6 = bounds.Apply(a6, 0, null); a7 = bounds.Apply(a7, 0, null);
        if (count == 16)
        {
            a0.Store(o); a1.Store(o + positions); a2.Store(o + 2 * positions); a3.Store(o + 3 * positions);
            a4.Store(o + 4 * positions); a5.Store(o + 5 * positions); a6.Store(o + 6 * positions); a7.Store(o + 7 * positions);
            return;
        }
        var keep = Lanes512.FirstLanes(count);
        Avx512F.MaskStore(o, keep, a0); Avx512F.MaskStore(o + positions, keep, a1); Avx512F.MaskStore(o + 2 * positions, keep, a2); Avx512F.MaskStore(o + 3 * positions, keep, a3);
        Avx512F.MaskStore(o + 4 * positions, keep, a4); Avx512F.MaskStore(o + 5 * positions, keep, a5); Avx512F.MaskStore(o + 6 * positions, keep, a6); Avx512F.MaskStore(o + 7 * positions, keep, a7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Bias512(float* bias, int m) => bias == null ? Vector512<float>.Zero : Vector512.Create(bias[m]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Bias(float* bias, int m) => bias == null ? Vector<float>.Zero : new Vector<float>(bias[m]);
}
