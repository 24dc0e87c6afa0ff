using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Depthwise 3×3 convolution without dilation, stride 1 with one row and column of zero padding on every side or
/// stride 2 with one above and to the left (MobileNet's and EfficientNet's depthwise layers), read straight from the
/// input plane with AVX-512 masked loads (stride 2 splits each 32 loaded columns into even and odd ones, see
/// <see cref="Stride2"/>): the three taps of a row are loads at columns j − 1, j and j + 1 whose lanes outside the row read as zero,
/// and the padded rows above and below the plane are taps left out. No padded copy of the plane is made, which is
/// what dominated <see cref="DepthwiseRows"/> on 14×14 and 7×7 planes, where a whole plane is about a hundred
/// multiply-adds. Four output rows go together so that each input row is loaded once for the (up to) three output
/// rows it feeds and four multiply-add chains overlap. Each output sums bias and then its taps in the order
/// (u, v) = (0, 0) … (2, 2), as <see cref="DepthwiseRows"/> does, then is bounded and stored with a masked store.
/// </summary>
internal static unsafe class Depthwise3x3Direct
{
    /// <summary>
    /// Output rows a stretch of 16 columns takes before the next stretch: four bands of four, whose input rows (up to 33)
    /// stay in L1 across the row's stretches, while each stretch's masks are made once per block.
    /// </summary>
    const int BandRows = 16;

    /// <summary>Lanes per output vector.</summary>
    const int Lanes = 16;

    /// <summary>
    /// 3×3 without dilation on hardware with AVX-512: stride 1 with one pixel of padding on every side, or stride 2 with
    /// one above and to the left and at most one below and to the right.
    /// </summary>
    public static bool Applies(in Conv2DGeometry g) =>
        Avx512F.IsSupported && g.IsDepthwise && g.KernelH == 3 && g.KernelW == 3 && g.DilationH == 1 && g.DilationW == 1 &&
        g.PadTop == 1 && g.PadLeft == 1 && (
            (g.StrideH == 1 && g.StrideW == 1 && g.PadBottom == 1 && g.PadRight == 1) ||
            (g.StrideH == 2 && g.StrideW == 2 && g.PadBottom is 0 or 1 && g.PadRight is 0 or 1));

    /// <summary>
    /// Output plane p (image p / C, channel p mod C) of y = clamp(depthwise conv(x, w) + b), input plane p read from
    /// <paramref name="source"/> (H×W floats); <paramref name="b"/> may be null. <paramref name="accumulate"/> adds the
    /// sums to y instead (no bias or bounds then: the input gradient's stride-1 pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(in Conv2DGeometry g, int p, float* source, float* w, float* b, float* y, ConvClamp bounds, bool accumulate = false)
    {
        if (accumulate && (bounds.HasMin || bounds.HasMax)) throw new ArgumentException("Bounds apply to stored sums, not to accumulated ones.", nameof(bounds));
        if (g.StrideW == 2) { Stride2(g, p, source, w, b, y, bounds, accumulate); return; }
        int h = g.InHeight, wd = g.InWidth, c = p % g.OutChannels;
        float* src = source, dst = y + p * (long)h * wd, k = w + (long)c * 9;
        var t = new Taps(k, b == null ? 0f : b[c], bounds);
        // Bands of rows outside, the row's 16-column stretches inside: the plane is read front to back, each band's
        // input rows from L1 for all its stretches (a stretch at a time down the whole plane read each row a cache
        // line at a time, 112 floats apart, from L3).
        // First row: the padded row above leaves out the top taps.
        for (int j = 0; j < wd; j += Lanes)
        {
            var rows = Rows.At(src, wd, j);
            var put = new Put(dst + j, wd, Lanes512.FirstLanes(wd - j), wd - j >= Lanes, accumulate);
            var a = t.Start;
            if (h > 1) { rows.Load(0, out var r0, out var r1, out var r2); t.Middle(ref a, r0, r1, r2); rows.Load(1, out r0, out r1, out r2); t.Bottom(ref a, r0, r1, r2); }
            else { rows.Load(0, out var r0, out var r1, out var r2); t.Middle(ref a, r0, r1, r2); }
            put.Store(0, t.Bound(a));
        }
        if (h == 1) return;
        // Four rows whose taps are all inside the plane: input rows i − 1 … i + 4, each loaded once per stretch; the
        // bands go a block of BandRows rows at a time through each stretch (its masks made once per block).
        int bands = 1 + (h - 2) / 4 * 4;   // the first row past the last whole band
        for (int i0 = 1; i0 < bands; i0 += BandRows)
            for (int j = 0; j < wd; j += Lanes)
            {
                var rows = Rows.At(src, wd, j);
                var put = new Put(dst + j, wd, Lanes512.FirstLanes(wd - j), wd - j >= Lanes, accumulate);
                for (int i = i0; i < Math.Min(bands, i0 + BandRows); i += 4)
                {
                Vector512<float> a0 = t.Start, a1 = t.Start, a2 = t.Start, a3 = t.Start;
                rows.Load(i - 1, out var r0, out var r1, out var r2);
                t.Top(ref a0, r0, r1, r2);
                rows.Load(i, out r0, out r1, out r2);
                t.Middle(ref a0, r0, r1, r2); t.Top(ref a1, r0, r1, r2);
                rows.Load(i + 1, out r0, out r1, out r2);
                t.Bottom(ref a0, r0, r1, r2); t.Middle(ref a1, r0, r1, r2); t.Top(ref a2, r0, r1, r2);
                rows.Load(i + 2, out r0, out r1, out r2);
                t.Bottom(ref a1, r0, r1, r2); t.Middle(ref a2, r0, r1, r2); t.Top(ref a3, r0, r1, r2);
                rows.Load(i + 3, out r0, out r1, out r2);
                t.Bottom(ref a2, r0, r1, r2); t.Middle(ref a3, r0, r1, r2);
                rows.Load(i + 4, out r0, out r1, out r2);
                t.Bottom(ref a3, r0, r1, r2);
                put.Store(i, t.Bound(a0)); put.Store(i + 1, t.Bound(a1)); put.Store(i + 2, t.Bound(a2)); put.Store(i + 3, t.Bound(a3));
                }
            }
        // The rows left before the last, one at a time; then the last, whose padded row below leaves out the bottom taps.
        for (int i = bands; i < h; i++)
            for (int j = 0; j < wd; j += Lanes)
            {
                var rows = Rows.At(src, wd, j);
                var put = new Put(dst + j, wd, Lanes512.FirstLanes(wd - j), wd - j >= Lanes, accumulate);
                var a = t.Start;
                rows.Load(i - 1, out var r0, out var r1, out var r2); t.Top(ref a, r0, r1, r2);
                rows.Load(i, out r0, out r1, out r2); t.Middle(ref a, r0, r1, r2);
                if (i + 1 < h) { rows.Load(i + 1, out r0, out r1, out r2); t.Bottom(ref a, r0, r1, r2); }
                put.Store(i, t.Bound(a));
            }
    }

    /// <summary>
    /// Stride 2: output lanes l = 0…15 at column j + l read input columns 2(j + l) − 1, 2(j + l) and 2(j + l) + 1. Two
    /// masked loads take the 32 columns from 2j, one two-source permute each splits them into the even columns (the
    /// middle tap) and the odd ones (the right tap), and the odd ones shifted up a lane with column 2j − 1 in lane 0
    /// are the left tap. Output row i reads input rows 2i − 1 … 2i + 1; four output rows share the rows between them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Stride2(in Conv2DGeometry g, int p, float* source, float* w, float* b, float* y, ConvClamp bounds, bool accumulate)
    {
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, c = p % g.OutChannels;
        float* dst = y + p * (long)oh * ow, k = w + (long)c * 9;
        var t = new Taps(k, b == null ? 0f : b[c], bounds);
        // Bands of rows outside, stretches inside, as for stride 1.
        int top = 0;
        for (; top < oh && 2 * top - 1 < 0; top++)
            for (int j = 0; j < ow; j += Lanes)
                new Put(dst + j, ow, Lanes512.FirstLanes(ow - j), ow - j >= Lanes, accumulate).Store(top, t.Bound(Row2(Rows2.At(source, wd, 2 * j), t, top, h)));
        // Four rows whose taps are all inside the plane: input rows 2i − 1 … 2i + 7, each loaded once per stretch; a
        // block of BandRows rows at a time through each stretch.
        int bands = top;
        while (bands + 4 <= oh && 2 * (bands + 3) + 1 < h) bands += 4;
        for (int i0 = top; i0 < bands; i0 += BandRows)
            for (int j = 0; j < ow; j += Lanes)
            {
                var rows = Rows2.At(source, wd, 2 * j);
                var put = new Put(dst + j, ow, Lanes512.FirstLanes(ow - j), ow - j >= Lanes, accumulate);
                for (int i = i0; i < Math.Min(bands, i0 + BandRows); i += 4)
                {
                Vector512<float> a0 = t.Start, a1 = t.Start, a2 = t.Start, a3 = t.Start;
                int r = 2 * i - 1;
                rows.Load(r, out var r0, out var r1, out var r2); t.Top(ref a0, r0, r1, r2);
                rows.Load(r + 1, out r0, out r1, out r2); t.Middle(ref a0, r0, r1, r2);
                rows.Load(r + 2, out r0, out r1, out r2); t.Bottom(ref a0, r0, r1, r2); t.Top(ref a1, r0, r1, r2);
                rows.Load(r + 3, out r0, out r1, out r2); t.Middle(ref a1, r0, r1, r2);
                rows.Load(r + 4, out r0, out r1, out r2); t.Bottom(ref a1, r0, r1, r2); t.Top(ref a2, r0, r1, r2);
                rows.Load(r + 5, out r0, out r1, out r2); t.Middle(ref a2, r0, r1, r2);
                rows.Load(r + 6, out r0, out r1, out r2); t.Bottom(ref a2, r0, r1, r2); t.Top(ref a3, r0, r1, r2);
                rows.Load(r + 7, out r0, out r1, out r2); t.Middle(ref a3, r0, r1, r2);
                rows.Load(r + 8, out r0, out r1, out r2); t.Bottom(ref a3, r0, r1, r2);
                put.Store(i, t.Bound(a0)); put.Store(i + 1, t.Bound(a1)); put.Store(i + 2, t.Bound(a2)); put.Store(i + 3, t.Bound(a3));
                }
            }
        for (int i = bands; i < oh; i++)
            for (int j = 0; j < ow; j += Lanes)
                new Put(dst + j, ow, Lanes512.FirstLanes(ow - j), ow - j >= Lanes, accumulate).Store(i, t.Bound(Row2(Rows2.At(source, wd, 2 * j), t, i, h)));
    }

    /// <summary>One stride-2 output row's sums, leaving out the taps on padded rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Row2(in Rows2 rows, in Taps t, int i, int h)
    {
        var a = t.Start;
        int r = 2 * i - 1;
        if (r >= 0) { rows.Load(r, out var r0, out var r1, out var r2); t.Top(ref a, r0, r1, r2); }
        { rows.Load(r + 1, out var r0, out var r1, out var r2); t.Middle(ref a, r0, r1, r2); }
        if (r + 2 < h) { rows.Load(r + 2, out var r0, out var r1, out var r2); t.Bottom(ref a, r0, r1, r2); }
        return a;
    }

    /// <summary>
    /// dw[c, u, v] += Σ over images and output positions of dy[i, j]·x̃[s·i + u − 1, s·j + v − 1] for channel c: each
    /// output-gradient vector (lanes past its row masked to zero) multiplies the same row taps the forward pass loads,
    /// into nine accumulators kept in registers across all images of the channel and summed across lanes once at the
    /// end. The next image's planes are prefetched row by row (in this channel-major walk they are a batch stride away).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Weights(in Conv2DGeometry g, int c, float* x, float* dy, float* dw)
    {
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, s = g.StrideW, channels = g.OutChannels;
        long inPlane = (long)h * wd, outPlane = (long)oh * ow;
        var acc = new Accumulators();
        for (int n = 0; n < g.Batch; n++)
        {
            long p = (long)n * channels + c;
            float* xs = x + p * inPlane, gs = dy + p * outPlane;
            float* xNext = n + 1 < g.Batch ? xs + channels * inPlane : null, gNext = n + 1 < g.Batch ? gs + channels * outPlane : null;
            for (int j = 0; j < ow; j += Lanes)
            {
                var mg = Lanes512.FirstLanes(ow - j);
                if (s == 1) WeightStretch(Rows.At(xs, wd, j), ref acc, gs + j, ow, mg, 1, h, oh, j == 0 ? xNext : null, gNext, wd);
                else WeightStretch(Rows2.At(xs, wd, 2 * j), ref acc, gs + j, ow, mg, 2, h, oh, j == 0 ? xNext : null, gNext, wd);
            }
        }
        float* k = dw + (long)c * 9;
        k[0] += Vector512.Sum(acc.A0); k[1] += Vector512.Sum(acc.A1); k[2] += Vector512.Sum(acc.A2);
        k[3] += Vector512.Sum(acc.A3); k[4] += Vector512.Sum(acc.A4); k[5] += Vector512.Sum(acc.A5);
        k[6] += Vector512.Sum(acc.A6); k[7] += Vector512.Sum(acc.A7); k[8] += Vector512.Sum(acc.A8);
    }

    /// <summary>The nine per-tap sums of <see cref="Weights"/>.</summary>
    struct Accumulators
    {
        public Vector512<float> A0, A1, A2, A3, A4, A5, A6, A7, A8;
    }

    /// <summary>One 16-output stretch of every output row of a plane into the nine sums; prefetches the next planes' rows when given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WeightStretch<TRows>(TRows rows, ref Accumulators acc, float* gs, int ow, Vector512<float> mg, int s, int h, int oh,
        float* xNext, float* gNext, int wd) where TRows : struct, IRowTaps
    {
        Vector512<float> a0 = acc.A0, a1 = acc.A1, a2 = acc.A2, a3 = acc.A3, a4 = acc.A4, a5 = acc.A5, a6 = acc.A6, a7 = acc.A7, a8 = acc.A8;
        for (int i = 0; i < oh; i++)
        {
            if (xNext != null && Sse.IsSupported)
            {
                for (int r = s * i; r < s * i + s && r < h; r++)
                    for (int f = 0; f < wd; f += Lanes) Sse.Prefetch1(xNext + (long)r * wd + f);
                for (int f = 0; f < ow; f += Lanes) Sse.Prefetch1(gNext + (long)i * ow + f);
            }
            var d = Avx512F.MaskLoad(gs + (long)i * ow, mg, Vector512<float>.Zero);
            int top = s * i - 1;
            if (top >= 0)
            {
                rows.Load(top, out var r0, out var r1, out var r2);
                a0 = Vector512.FusedMultiplyAdd(d, r0, a0); a1 = Vector512.FusedMultiplyAdd(d, r1, a1); a2 = Vector512.FusedMultiplyAdd(d, r2, a2);
            }
            {
                rows.Load(top + 1, out var r0, out var r1, out var r2);
                a3 = Vector512.FusedMultiplyAdd(d, r0, a3); a4 = Vector512.FusedMultiplyAdd(d, r1, a4); a5 = Vector512.FusedMultiplyAdd(d, r2, a5);
            }
            if (top + 2 < h)
            {
                rows.Load(top + 2, out var r0, out var r1, out var r2);
                a6 = Vector512.FusedMultiplyAdd(d, r0, a6); a7 = Vector512.FusedMultiplyAdd(d, r1, a7); a8 = Vector512.FusedMultiplyAdd(d, r2, a8);
            }
        }
        acc.A0 = a0; acc.A1 = a1; acc.A2 = a2; acc.A3 = a3; acc.A4 = a4; acc.A5 = a5; acc.A6 = a6; acc.A7 = a7; acc.A8 = a8;
    }

    /// <summary>
    /// dx (+)= conv_transpose(dy, w) for one plane of a stride-2 layer (<paramref name="dy"/> the output-gradient plane,
    /// <paramref name="w"/> the filters as the forward pass takes them, <paramref name="dx"/> the whole input gradient).
    /// With padding 1 above and to the left, input row 2m takes only the middle kernel row from output row m, and row
    /// 2m + 1 the top row from output row m + 1 and the bottom row from m; likewise for columns. So each pair of input
    /// rows comes from the output rows m and m + 1 alone: their vectors at columns n and n + 1 give the even and the odd
    /// columns with nine multiply-adds per 2×2 block of inputs, interleaved into 32 columns by two permutes and stored
    /// (or added) once: no zero-spread plane and no multiply-adds of zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DataStride2(in Conv2DGeometry g, int p, float* dy, float* w, float* dx, bool add)
    {
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, c = p % g.OutChannels;
        float* dst = dx + p * (long)h * wd, k = w + (long)c * 9;
        Vector512<float> k00 = Vector512.Create(k[0]), k01 = Vector512.Create(k[1]), k02 = Vector512.Create(k[2]),
                         k10 = Vector512.Create(k[3]), k11 = Vector512.Create(k[4]), k12 = Vector512.Create(k[5]),
                         k20 = Vector512.Create(k[6]), k21 = Vector512.Create(k[7]), k22 = Vector512.Create(k[8]);
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (int n = 0; 2 * n < wd; n += Lanes)
        {
            Vector512<float> m0 = Lanes512.FirstLanes(ow - n), m1 = Lanes512.FirstLanes(ow - n - 1);
            var put = new Put2(dst + 2 * n, wd, Lanes512.FirstLanes(wd - 2 * n), Lanes512.FirstLanes(wd - 2 * n - Lanes), add);
            // Output row m at columns n + l and n + l + 1 (zero past the plane).
            Vector512<float> a = default, a1 = default;
            if (oh > 0) { a = Avx512F.MaskLoad(dy + n, m0, Vector512<float>.Zero); a1 = Avx512F.MaskLoad(dy + n + 1, m1, Vector512<float>.Zero); }
            for (int m = 0; 2 * m < h; m++)
            {
                Vector512<float> b = default, b1 = default;
                if (m + 1 < oh)
                {
                    float* row = dy + (long)(m + 1) * ow + n;
                    b = Avx512F.MaskLoad(row, m0, Vector512<float>.Zero);
                    b1 = Avx512F.MaskLoad(row + 1, m1, Vector512<float>.Zero);
                }
                // Row 2m: the middle kernel row over output row m.
                var even = k11 * a;
                var odd = Vector512.FusedMultiplyAdd(k10, a1, k12 * a);
                put.Store(2 * m, Avx512F.PermuteVar16x32x2(even, low, odd), Avx512F.PermuteVar16x32x2(even, high, odd));
                if (2 * m + 1 < h)
                {
                    // Row 2m + 1: the top kernel row over output row m + 1, the bottom one over row m.
                    even = Vector512.FusedMultiplyAdd(k01, b, k21 * a);
                    odd = Vector512.FusedMultiplyAdd(k00, b1, Vector512.FusedMultiplyAdd(k02, b, Vector512.FusedMultiplyAdd(k20, a1, k22 * a)));
                    put.Store(2 * m + 1, Avx512F.PermuteVar16x32x2(even, low, odd), Avx512F.PermuteVar16x32x2(even, high, odd));
                }
                a = b; a1 = b1;
            }
        }
    }

    /// <summary>Stores (or adds) 32 input-gradient columns of a row as two vectors, each with its own mask.</summary>
    readonly struct Put2(float* start, int width, Vector512<float> lo, Vector512<float> hi, bool add)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, Vector512<float> first, Vector512<float> second)
        {
            float* p = start + (long)row * width;
            if (add)
            {
                first += Avx512F.MaskLoad(p, lo, Vector512<float>.Zero);
                second += Avx512F.MaskLoad(p + Lanes, hi, Vector512<float>.Zero);
            }
            Avx512F.MaskStore(p, lo, first);
            Avx512F.MaskStore(p + Lanes, hi, second);
        }
    }

    /// <summary>The nine weights and the bias broadcast once per plane, and the bounds.</summary>
    readonly struct Taps
    {
        readonly Vector512<float> _k0, _k1, _k2, _k3, _k4, _k5, _k6, _k7, _k8, _lo, _hi;
        readonly bool _hasMin, _hasMax;
        public readonly Vector512<float> Start;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Taps(float* k, float bias, ConvClamp bounds)
        {
            _k0 = Vector512.Create(k[0]); _k1 = Vector512.Create(k[1]); _k2 = Vector512.Create(k[2]);
            _k3 = Vector512.Create(k[3]); _k4 = Vector512.Create(k[4]); _k5 = Vector512.Create(k[5]);
            _k6 = Vector512.Create(k[6]); _k7 = Vector512.Create(k[7]); _k8 = Vector512.Create(k[8]);
            Start = Vector512.Create(bias);
            _hasMin = bounds.HasMin; _hasMax = bounds.HasMax;
            _lo = Vector512.Create(bounds.Min); _hi = Vector512.Create(bounds.Max);
        }

        /// <summary>Taps (0, 0…2): the input row above the output row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Top(ref Vector512<float> a, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2)
        {
            a = Vector512.FusedMultiplyAdd(r0, _k0, a); a = Vector512.FusedMultiplyAdd(r1, _k1, a); a = Vector512.FusedMultiplyAdd(r2, _k2, a);
        }

        /// <summary>Taps (1, 0…2): the output row's own input row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Middle(ref Vector512<float> a, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2)
        {
            a = Vector512.FusedMultiplyAdd(r0, _k3, a); a = Vector512.FusedMultiplyAdd(r1, _k4, a); a = Vector512.FusedMultiplyAdd(r2, _k5, a);
        }

        /// <summary>Taps (2, 0…2): the input row below.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Bottom(ref Vector512<float> a, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2)
        {
            a = Vector512.FusedMultiplyAdd(r0, _k6, a); a = Vector512.FusedMultiplyAdd(r1, _k7, a); a = Vector512.FusedMultiplyAdd(r2, _k8, a);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Bound(Vector512<float> a)
        {
            if (_hasMin) a = Vector512.Max(a, _lo);
            if (_hasMax) a = Vector512.Min(a, _hi);
            return a;
        }
    }

    /// <summary>One 16-column stretch of the input plane's rows, loaded at column offsets −1, 0, +1 with the lanes outside the row as zero.</summary>
    /// <summary>Loads the three column taps of one input row for a 16-output stretch.</summary>
    interface IRowTaps
    {
        void Load(int row, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2);
    }

    readonly struct Rows(float* start, int width, Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, bool inside) : IRowTaps
    {
        /// <summary>
        /// The stretch of columns [j, j + 16) of a plane whose rows start at <paramref name="plane"/>: lane l of the tap
        /// at column offset v − 1 reads column j + l + v − 1, kept when it is a real column (at or past 0, below the width).
        /// A stretch whose taps all lie inside the row loads without masks.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Rows At(float* plane, int width, int j)
        {
            if (j > 0 && j + Lanes < width) return new Rows(plane + j, width, default, default, default, inside: true);
            var m0 = j > 0 ? Lanes512.FirstLanes(width - j + 1)
                : (Vector512.GreaterThanOrEqual(Lanes512.Indices, Vector512<int>.One) & Vector512.LessThan(Lanes512.Indices, Vector512.Create(width + 1))).AsSingle();
            return new Rows(plane + j, width, m0, Lanes512.FirstLanes(width - j), Lanes512.FirstLanes(width - j - 1), inside: false);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(int row, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2)
        {
            float* p = start + (long)row * width;
            if (inside) { r0 = Vector512.Load(p - 1); r1 = Vector512.Load(p); r2 = Vector512.Load(p + 1); return; }
            r0 = Avx512F.MaskLoad(p - 1, m0, Vector512<float>.Zero);
            r1 = Avx512F.MaskLoad(p, m1, Vector512<float>.Zero);
            r2 = Avx512F.MaskLoad(p + 1, m2, Vector512<float>.Zero);
        }
    }

    /// <summary>
    /// 32 input columns from <paramref name="column"/> of each row, split for stride 2: r0 = columns column − 1 + 2l
    /// (the left tap), r1 = column + 2l, r2 = column + 1 + 2l; columns outside the row read as zero.
    /// </summary>
    readonly struct Rows2 : IRowTaps
    {
        readonly float* _plane;
        readonly int _width, _column;
        readonly Vector512<float> _lo, _hi;

        /// <summary>The 32 columns from <paramref name="column"/>, those past the row's width masked off.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Rows2 At(float* plane, int width, int column) => new(plane, width, column);

        // Inlined, as the taps are: a call per stretch to build it kept it on the stack.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Rows2(float* plane, int width, int column)
        {
            _plane = plane; _width = width; _column = column;
            _lo = Lanes512.FirstLanes(width - column); _hi = Lanes512.FirstLanes(width - column - Lanes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(int row, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2)
        {
            float* p = _plane + (long)row * _width + _column;
            var a = Avx512F.MaskLoad(p, _lo, Vector512<float>.Zero);
            var b = Avx512F.MaskLoad(p + Lanes, _hi, Vector512<float>.Zero);
            r1 = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
            r2 = Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
            var before = Vector512.Create(_column > 0 ? p[-1] : 0f);
            r0 = Avx512F.AlignRight32(r2.AsInt32(), before.AsInt32(), 15).AsSingle();
        }
    }

    /// <summary>Stores (or adds) a 16-column stretch of output rows: whole when it is, else its real lanes only.</summary>
    readonly struct Put(float* start, int width, Vector512<float> mask, bool whole, bool accumulate)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, Vector512<float> a)
        {
            float* p = start + (long)row * width;
            if (whole) { (accumulate ? Vector512.Load(p) + a : a).Store(p); return; }
            if (accumulate) a += Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
            Avx512F.MaskStore(p, mask, a);
        }
    }
}
