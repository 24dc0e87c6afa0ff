using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Max and average pooling over 2-D windows (1-D pooling runs as height 1) and global pooling, planes spread across
/// threads. A window is separable: each output row first reduces its valid input rows into one row (vectorized
/// <see cref="TensorPrimitives"/> max or add over the whole width), then each output column reduces its valid taps of
/// that row. The valid taps of every output row and column are computed once per call, so no inner loop tests bounds.
/// Padding never wins a max; the average divides by the taps inside the padded input (count_include_pad) or inside
/// the real input. <see cref="Reference.ReferencePool2D"/> is the plain loop they must equal.
/// </summary>
public static class Pool2D
{
    /// <summary>Valid taps of each output position along one axis: first input index, tap count, taps inside the padded extent.</summary>
    readonly struct AxisTaps
    {
        public readonly int[] First, Count, Padded;
        public readonly int Dilation;

        public AxisTaps(int outSize, int stride, int padBegin, int padEnd, int kernel, int dilation, int size)
        {
            First = new int[outSize]; Count = new int[outSize]; Padded = new int[outSize]; Dilation = dilation;
            for (int o = 0; o < outSize; o++)
            {
                int start = o * stride - padBegin;
                int u0 = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
                int u1 = start > size - 1 ? 0 : Math.Min(kernel, (size - 1 - start) / dilation + 1);
                Count[o] = Math.Max(0, u1 - u0);
                First[o] = start + u0 * dilation;
                int padded = start > size + padEnd - 1 ? 0 : Math.Min(kernel, (size + padEnd - 1 - start) / dilation + 1);
                Padded[o] = padded;
            }
        }
    }

    static (AxisTaps Rows, AxisTaps Cols) Taps(in Pool2DGeometry g) =>
        (new AxisTaps(g.OutHeight, g.StrideH, g.PadTop, g.PadBottom, g.KernelH, g.DilationH, g.InHeight),
         new AxisTaps(g.OutWidth, g.StrideW, g.PadLeft, g.PadRight, g.KernelW, g.DilationW, g.InWidth));

    static long WorkPerPlane(in Pool2DGeometry g) => (long)g.OutHeight * g.OutWidth * g.KernelH * g.KernelW + g.InHeight * g.InWidth;

    public static void MaxForward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y) => Forward(g, x, y, max: true);

    public static void AverageForward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y) => Forward(g, x, y, max: false);

    /// <summary>Per output row: reduce its valid input rows into one row (max or sum), then each column's valid taps of it.</summary>
    static void Forward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y, bool max)
    {
        var (rows, cols) = Taps(g);
        int oh = g.OutHeight, ow = g.OutWidth, iw = g.InWidth, plane = g.InHeight * iw;
        bool includePad = g.CountIncludePad;
        long xLength = x.Length;
        var geo = g;
        var sweep = max ? MaxSweep.For(g, rows) : default;
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint xp = (nint)px, yp = (nint)py;
                Workers.For(g.Batch * g.Channels, WorkPerPlane(g), (p0, p1) =>
                {
                    var tmp = ArrayPool<float>.Shared.Rent(iw);
                    var row = tmp.AsSpan(0, iw);
                    for (int p = p0; p < p1; p++)
                    {
                        var xs = new ReadOnlySpan<float>((float*)xp + (long)p * plane, plane);
                        var ys = new Span<float>((float*)yp + (long)p * oh * ow, oh * ow);
                        // 3×3 stride 2: the rows with all three window rows inside the plane go down the plane a
                        // column group at a time, each input row's maxima shared by the two output rows it serves.
                        bool swept = sweep.Run((float*)xp + (long)p * plane, xLength - (long)p * plane, (float*)yp + (long)p * oh * ow);
                        int sweepFrom = swept ? sweep.From : 0, sweepTo = swept ? sweep.To : 0;
                        for (int i = 0; i < oh; i++)
                        {
                            var yRow = ys.Slice(i * ow, ow);
                            int n = rows.Count[i];
                            if (n == 0) { yRow.Fill(max ? float.NegativeInfinity : 0); continue; }
                            // Max with stride 2: whole windows 16 outputs at a time straight from the input rows; the
                            // temporary row-reduced row only for the columns left over (pads at the edges).
                            int jv0 = 0, jv1 = 0;
                            if (i >= sweepFrom && i < sweepTo)
                            {
                                (jv0, jv1) = (sweep.J0, sweep.J1);
                                if (jv0 == 0 && jv1 == ow) continue;
                            }
                            else if (max)
                            {
                                long first = (long)p * plane + (long)rows.First[i] * iw;
                                (jv0, jv1) = MaxStride2Windows(geo, (float*)xp + first, n, rows.Dilation * iw, xLength - first, (float*)yp + ((long)p * oh + i) * ow);
                                if (jv0 == 0 && jv1 == ow) continue;
                            }
                            ReadOnlySpan<float> src = xs.Slice(rows.First[i] * iw, iw);
                            if (n > 1)
                            {
                                for (int u = 1; u < n; u++)
                                {
                                    var next = xs.Slice((rows.First[i] + u * rows.Dilation) * iw, iw);
                                    if (max) TensorPrimitives.Max(src, next, row); else TensorPrimitives.Add(src, next, row);
                                    src = row;
                                }
                            }
                            for (int j = 0; j < ow; j++)
                            {
                                if (j == jv0 && jv1 > j) { j = jv1 - 1; continue; }
                                int c = cols.Count[j], at = cols.First[j], d = cols.Dilation;
                                if (max)
                                {
                                    float best = c == 0 ? float.NegativeInfinity : src[at];
                                    for (int v = 1; v < c; v++) best = MathF.Max(best, src[at + v * d]);
                                    yRow[j] = best;
                                }
                                else
                                {
                                    int count = includePad ? rows.Padded[i] * cols.Padded[j] : n * c;
                                    float acc = 0;
                                    for (int v = 0; v < c; v++) acc += src[at + v * d];
                                    yRow[j] = count > 0 && c > 0 ? acc / count : 0;
                                }
                            }
                        }
                    }
                    ArrayPool<float>.Shared.Return(tmp);
                });
            }
        }
    }

    /// <summary>First output column whose window lies wholly inside the row (start 2j − pad ≥ 0).</summary>
    static int VectorColumnsFrom(in Pool2DGeometry g) => (g.PadLeft + 1) / 2;

    /// <summary>
    /// Max pooling for stride 2 (dilation 1 along the row) on AVX-512, rows and columns in one pass: y[j] = max over
    /// the output row's <paramref name="rows"/> input rows (<paramref name="rowStep"/> apart, the first at
    /// <paramref name="x"/>) and taps v &lt; KW of row[2j − pl + v], 16 outputs at a time. Each tap's 16 values are
    /// the even lanes of 32 consecutive floats (a two-register permute). Covers the columns whose window lies inside
    /// the row, from <see cref="VectorColumnsFrom"/> on; a last, partial group is computed again as the 16 columns
    /// ending at the last such column when those fit, its loads reaching at most one float past the row (never past
    /// <paramref name="readable"/> floats from <paramref name="x"/>; the lanes that read it are dropped by the permute).
    /// A row with fewer than 16 such columns is one group through a buffer, its loads running into the next row (within
    /// <paramref name="readable"/>) for lanes that are dropped. Max is exact in any order (NaN propagates, +0 above −0),
    /// so this equals the separable path to the bit.
    /// Returns the columns [from, to) written (empty when no vector step runs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe (int From, int To) MaxStride2Windows(in Pool2DGeometry g, float* x, int rows, int rowStep, long readable, float* y)
    {
        int j0 = VectorColumnsFrom(g), kw = g.KernelW, pl = g.PadLeft, ow = g.OutWidth, iw = g.InWidth;
        if (!Avx512F.IsSupported || g.StrideW != 2 || g.DilationW != 1) return (0, 0);
        // Columns whose whole window is inside the row: 2j − pl + kw − 1 ≤ iw − 1.
        int end = Math.Min(ow, (iw - kw + pl) / 2 + 1);
        if (end <= j0) return (0, 0);
        long lastRow = (long)(rows - 1) * rowStep;
        // A group starting at j reads up to 2j − pl + kw − 1 + 31 within each of its rows.
        bool Fits(int j) => lastRow + 2 * j - pl + kw + 31 <= readable && 2 * j - pl + kw + 31 <= iw + 1;
        if (end - j0 < 16)
        {
            // A row narrower than a group: one group into a buffer (lanes past `end` read the next row and are dropped).
            if (lastRow + 2 * j0 - pl + kw + 31 > readable) return (0, 0);
            Avx512F.MaskStore(y + j0, Lanes512.FirstLanes(end - j0), MaxGroup(x, 2 * j0 - pl, kw, rows, rowStep));
            return (j0, end);
        }
        int jj = j0;
        for (; jj + 16 <= end && Fits(jj); jj += 16) MaxGroup(x, 2 * jj - pl, kw, rows, rowStep).Store(y + jj);
        if (jj < end && jj > j0 && Fits(end - 16)) { MaxGroup(x, 2 * (end - 16) - pl, kw, rows, rowStep).Store(y + end - 16); jj = end; }
        return jj > j0 ? (j0, jj) : (0, 0);
    }

    /// <summary>
    /// <see cref="MaxStride2Windows"/> for 3×3 windows with stride 2 (dilation 1) on AVX-512, for every output row whose
    /// three window rows lie inside the plane at once: the same column groups, each taken down the plane, where input
    /// row 2i − pt + 2 is the last window row of output row i and the first of row i + 1, so its maxima across the
    /// three taps (<see cref="RowMax3"/>) are computed once for both (two row maxima per output vector instead of
    /// three). The same expression per output as <see cref="MaxGroup"/>: the same bits. Laid out once per call
    /// (<see cref="For"/>), run on each plane (<see cref="Run"/>): output rows [From, To), columns [J0, J1).
    /// </summary>
    readonly struct MaxSweep
    {
        /// <summary>Output rows of one band: its input rows (2·SweepRows + 1) stay in L1 across the band's column groups, where one group down a whole 112-wide plane and then the next read it from L2 four times.</summary>
        const int SweepRows = 16;

        public readonly int From, To, J0, J1;
        readonly int _groups, _iw, _ow, _pl;
        readonly bool _narrow, _last;
        /// <summary>Floats from the plane's start to the end of the last read: a plane needs that many readable.</summary>
        readonly long _reach;
        /// <summary>Floats from the plane's start to the first window row of output row From.</summary>
        readonly long _top;

        /// <summary>Whether <see cref="Run"/> computes anything.</summary>
        public bool Applies => To > From;

        MaxSweep(int from, int to, int j0, int j1, int groups, bool narrow, bool last, long reach, long top, int iw, int ow, int pl)
        {
            From = from; To = to; J0 = j0; J1 = j1; _groups = groups; _narrow = narrow; _last = last; _reach = reach; _top = top; _iw = iw; _ow = ow; _pl = pl;
        }

        /// <summary>The sweep for this geometry (none where it does not apply).</summary>
        public static MaxSweep For(in Pool2DGeometry g, in AxisTaps rows)
        {
            if (!Avx512F.IsSupported || g.KernelH != 3 || g.KernelW != 3 || g.StrideH != 2 || g.StrideW != 2 || g.DilationH != 1 || g.DilationW != 1) return default;
            int oh = g.OutHeight, ow = g.OutWidth, iw = g.InWidth, pl = g.PadLeft, j0 = VectorColumnsFrom(g);
            int from = 0;
            while (from < oh && rows.Count[from] != 3) from++;
            int to = from;
            while (to < oh && rows.Count[to] == 3) to++;
            int end = Math.Min(ow, (iw - 3 + pl) / 2 + 1);
            if (to - from < 2 || end <= j0) return default;
            // A group at column j reads 33 floats from 2j − pl of each row (the 33rd as a scalar); the last row read
            // is the last window row of output row to − 1.
            long lastRow = (long)(rows.First[to - 1] + 2) * iw, top = (long)rows.First[from] * iw;
            if (end - j0 < 16)   // narrower than a group: its lanes past `end` read on into the next row and are dropped
                return new MaxSweep(from, to, j0, end, 1, narrow: true, last: false, lastRow + 2 * j0 - pl + 33, top, iw, ow, pl);
            bool Inside(int j) => 2 * j - pl + 33 <= iw;
            int groups = 0;
            while (j0 + 16 * (groups + 1) <= end && Inside(j0 + 16 * groups)) groups++;
            if (groups == 0) return default;
            int jEnd = j0 + 16 * groups;
            bool last = jEnd < end && Inside(end - 16);
            int j1 = last ? end : jEnd;
            return new MaxSweep(from, to, j0, j1, groups, narrow: false, last, lastRow + 2 * (j1 - 16) - pl + 33, top, iw, ow, pl);
        }

        /// <summary>
        /// The sweep's outputs of one plane (input at <paramref name="x"/>, <paramref name="readable"/> floats from it;
        /// output at <paramref name="y"/>); false, writing nothing, where its last reads would pass the readable floats.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe bool Run(float* x, long readable, float* y)
        {
            if (!Applies || _reach > readable) return false;
            if (_narrow) { Column(x + _top, y, J0, Lanes512.FirstLanes(J1 - J0), whole: false, From, To); return true; }
            for (int i0 = From; i0 < To; i0 += SweepRows)
            {
                int i1 = Math.Min(To, i0 + SweepRows);
                for (int q = 0; q < _groups; q++) Column(x + _top, y, J0 + 16 * q, default, whole: true, i0, i1);
                if (_last) Column(x + _top, y, J1 - 16, default, whole: true, i0, i1);
            }
            return true;
        }

        /// <summary>Output rows [i0, i1) of the 16 columns from j, the sweep's first window row at <paramref name="first"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        unsafe void Column(float* first, float* y, int j, Vector512<float> keep, bool whole, int i0, int i1)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            float* r = first + (long)2 * (i0 - From) * _iw + 2 * j - _pl, yj = y + j;
            var above = RowMax3(r, even);
            for (int i = i0; i < i1; i++, r += 2 * _iw)
            {
                var middle = RowMax3(r + _iw, even);
                var below = RowMax3(r + 2 * _iw, even);
                var m = Vector512.Max(Vector512.Max(above, middle), below);
                if (whole) m.Store(yj + (long)i * _ow); else Avx512F.MaskStore(yj + (long)i * _ow, keep, m);
                above = below;
            }
        }
    }

    /// <summary>
    /// 16 stride-2 window maxima: max over rows u and taps v of x[u·rowStep + at + 2k + v] for k = 0…15. The taps of a
    /// row and then the rows combine pairwise (a tree, not one chain: each IEEE maximum is three dependent instructions,
    /// and nine of them in a row left the loads idle), exact in any order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector512<float> MaxGroup(float* x, int at, int kw, int rows, int rowStep)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        float* r = x + at;
        if (kw == 3 && rows == 3)
        {
            // The 3×3 windows of AlexNet's, SqueezeNet's and ResNet's pools.
            Vector512<float> a = RowMax3(r, even), b = RowMax3(r + rowStep, even), c = RowMax3(r + 2 * rowStep, even);
            return Vector512.Max(Vector512.Max(a, b), c);
        }
        var m = Avx512F.PermuteVar16x32x2(Vector512.Load(r), even, Vector512.Load(r + 16));
        for (int v = 1; v < kw; v++) m = Vector512.Max(m, Avx512F.PermuteVar16x32x2(Vector512.Load(r + v), even, Vector512.Load(r + v + 16)));
        for (int u = 1; u < rows; u++)
        {
            r += rowStep;
            for (int v = 0; v < kw; v++) m = Vector512.Max(m, Avx512F.PermuteVar16x32x2(Vector512.Load(r + v), even, Vector512.Load(r + v + 16)));
        }
        return m;
    }

    /// <summary>Maxima of three consecutive taps at 16 stride-2 positions of one row (<see cref="RowTaps3"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe Vector512<float> RowMax3(float* r, Vector512<int> even)
    {
        var (t0, t1, t2) = RowTaps3(r, even, even + Vector512<int>.One);
        return Vector512.Max(Vector512.Max(t0, t1), t2);
    }

    /// <summary>
    /// Three consecutive taps at 16 stride-2 positions of one row: the 32 floats from r split into even and odd columns,
    /// the third tap the even ones moved down a lane with r[32] in the last (two loads and a broadcast instead of six loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe (Vector512<float>, Vector512<float>, Vector512<float>) RowTaps3(float* r, Vector512<int> even, Vector512<int> odd)
    {
        Vector512<float> lo = Vector512.Load(r), hi = Vector512.Load(r + 16);
        var t0 = Avx512F.PermuteVar16x32x2(lo, even, hi);
        var t1 = Avx512F.PermuteVar16x32x2(lo, odd, hi);
        var t2 = Avx512F.AlignRight32(Vector512.Create(r[32]).AsInt32(), t0.AsInt32(), 1).AsSingle();
        return (t0, t1, t2);
    }

    /// <summary>
    /// dx[argmax] += dy (adds). The arg-max is the first tap, in row-major window order, that holds the window's
    /// maximum y (the forward output), which is the reference's first maximum. With <paramref name="add"/> false, dx is
    /// set instead: each plane is cleared just before its scatter, while it stays in cache.
    /// </summary>
    public static void MaxBackward(in Pool2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool add = true)
    {
        var (rows, cols) = Taps(g);
        int oh = g.OutHeight, ow = g.OutWidth, iw = g.InWidth, plane = g.InHeight * iw;
        int vectorFrom = VectorColumnsFrom(g);
        var geo = g;
        unsafe
        {
            fixed (float* px = x, py = y, pdy = dy, pdx = dx)
            {
                nint xp = (nint)px, yp = (nint)py, dyp = (nint)pdy, dxp = (nint)pdx;
                Workers.For(g.Batch * g.Channels, WorkPerPlane(g), (p0, p1) =>
                {
                    int[] rowFirst = rows.First, rowCount = rows.Count, colFirst = cols.First, colCount = cols.Count;
                    int rowStep = rows.Dilation * iw, colStep = cols.Dilation;
                    for (int p = p0; p < p1; p++)
                    {
                        float* xs = (float*)xp + (long)p * plane, dxs = (float*)dxp + (long)p * plane;
                        float* ys = (float*)yp + (long)p * oh * ow, dys = (float*)dyp + (long)p * oh * ow;
                        if (!add) new Span<float>(dxs, plane).Clear();
                        for (int i = 0; i < oh; i++)
                        {
                            int n = rowCount[i];
                            if (n == 0) continue;
                            int rowAt = rowFirst[i] * iw;
                            for (int j = 0; j < ow; j++)
                            {
                                // The vector columns run after the scalar ones before them, keeping the order of additions.
                                if (j == vectorFrom)
                                {
                                    int jv1 = MaxBackwardStride2Columns(geo, xs + rowAt, dxs + rowAt, n, rowStep, ys + i * ow, dys + i * ow);
                                    if (jv1 > j) { j = jv1 - 1; continue; }
                                }
                                int c = colCount[j];
                                if (c == 0) continue;
                                float target = ys[i * ow + j];
                                int start = rowAt + colFirst[j];
                                for (int u = 0; u < n; u++, start += rowStep)
                                {
                                    int q = start, v = 0;
                                    while (v < c && xs[q] != target) { v++; q += colStep; }
                                    if (v < c) { dxs[q] += dys[i * ow + j]; break; }
                                }
                            }
                        }
                    }
                });
            }
        }
    }

    /// <summary>Widest window row the vector backward takes: 16 outputs' taps then reach 30 + KW ≤ 48 floats (three registers).</summary>
    const int MaxScatterKernel = 18;

    /// <summary>
    /// For tap v and register p of a window row's span, the permute that puts output k's addition at float 2k + v
    /// (lane 2k + v − 16p of register p; index 16, the zero vector's first lane, elsewhere): entry 3v + p.
    /// </summary>
    static readonly Vector512<int>[] ScatterIndex = Enumerable.Range(0, 3 * MaxScatterKernel).Select(e =>
    {
        int v = e / 3, p = e % 3;
        var lanes = new int[16];
        for (int l = 0; l < 16; l++)
        {
            int k2 = 16 * p + l - v;
            lanes[l] = k2 >= 0 && k2 % 2 == 0 && k2 / 2 < 16 ? k2 / 2 : 16;
        }
        return Vector512.Create(lanes);
    }).ToArray();

    /// <summary>
    /// Max pooling's backward for one output row, stride 2 (dilation 1) on AVX-512, on the columns whose window lies
    /// inside the row, from <see cref="VectorColumnsFrom"/> on: 16 outputs at a time, first the arg-max tap of each (the
    /// first tap in row-major window order equal to y, as the scalar loop finds it), then dx[tap] += dy, taps of a
    /// window row taken from the last to the first so each dx element receives its additions in the scalar loop's order
    /// (output columns ascending) and the result is the same to the bit. Other lanes add +0; each window row's span is
    /// loaded and stored once (adding tap by tap into memory stalled on every load of the floats just stored, offset by
    /// one). A last group of fewer
    /// than 16 such columns, or one whose 32 floats per tap would run past the row, goes with masked loads and stores
    /// that touch nothing past the row (SqueezeNet's 27- and 55-wide rows were mostly left to the scalar loop).
    /// <paramref name="x"/> and <paramref name="dx"/> point at the output row's first window row; window rows are
    /// <paramref name="rowStep"/> apart. Returns the column the scalar loop resumes at.
    /// </summary>
    static unsafe int MaxBackwardStride2Columns(in Pool2DGeometry g, float* x, float* dx, int rows, int rowStep, float* y, float* dy)
    {
        int j = VectorColumnsFrom(g), kw = g.KernelW, pl = g.PadLeft, ow = g.OutWidth, iw = g.InWidth;
        if (!Avx512F.IsSupported || g.StrideW != 2 || g.DilationW != 1) return j;
        if (kw > MaxScatterKernel) return j;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        int lastInside = (iw - kw + pl) / 2;   // the last output column whose window ends inside the row
        if (kw == 3 && rows == 3) j = MaxBackward3x3Stride2(x, dx, rowStep, y, dy, j, Math.Min(ow, lastInside + 1), pl, iw);
        for (int count; j < ow && (count = Math.Min(16, Math.Min(ow - j, lastInside - j + 1))) > 0; j += count)
        {
            int at = 2 * j - pl;
            bool whole = count == 16 && at + kw - 1 + 32 <= iw;
            var outs = Lanes512.FirstLanes(count);
            var yv = whole ? Vector512.Load(y + j) : Avx512F.MaskLoad(y + j, outs, Vector512<float>.Zero);
            var tap = Vector512.Create(-1);
            var found = whole ? Vector512<int>.Zero : ~outs.AsInt32();   // lanes past the group count as found: they take no tap
            for (int u = 0, t = 0; u < rows; u++)
            {
                float* r = x + (long)u * rowStep + at;
                for (int v = 0; v < kw; v++, t++)
                {
                    var xv = whole
                        ? Avx512F.PermuteVar16x32x2(Vector512.Load(r + v), even, Vector512.Load(r + v + 16))
                        : Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(r + v, Lanes512.FirstLanes(iw - at - v), Vector512<float>.Zero), even,
                            Avx512F.MaskLoad(r + v + 16, Lanes512.FirstLanes(iw - at - v - 16), Vector512<float>.Zero));
                    var hit = Vector512.AndNot(Vector512.Equals(xv, yv).AsInt32(), found);
                    tap = Vector512.ConditionalSelect(hit, Vector512.Create(t), tap);
                    found |= hit;
                }
            }
            var dyv = whole ? Vector512.Load(dy + j) : Avx512F.MaskLoad(dy + j, outs, Vector512<float>.Zero);
            // Each window row's additions gathered in registers over the span they reach (at most 48 floats), one load
            // and one store per row: tap v's goes to floats 2k + v, and within a float the additions come in the order
            // the scalar loop makes them (taps from the last to the first, +0 where a tap is not the arg-max).
            int span = 2 * count - 2 + kw;
            bool third = span > 32;
            var s0 = Lanes512.FirstLanes(span); var s1 = Lanes512.FirstLanes(span - 16); var s2 = Lanes512.FirstLanes(span - 32);
            for (int u = 0; u < rows; u++)
            {
                float* d = dx + (long)u * rowStep + at;
                var p0 = whole ? Vector512.Load(d) : Avx512F.MaskLoad(d, s0, Vector512<float>.Zero);
                var p1 = whole ? Vector512.Load(d + 16) : Avx512F.MaskLoad(d + 16, s1, Vector512<float>.Zero);
                var p2 = third ? Avx512F.MaskLoad(d + 32, s2, Vector512<float>.Zero) : Vector512<float>.Zero;
                for (int v = kw - 1; v >= 0; v--)
                {
                    var add = Vector512.ConditionalSelect(Vector512.Equals(tap, Vector512.Create(u * kw + v)).AsSingle(), dyv, Vector512<float>.Zero);
                    p0 += Avx512F.PermuteVar16x32x2(add, ScatterIndex[3 * v], Vector512<float>.Zero);
                    p1 += Avx512F.PermuteVar16x32x2(add, ScatterIndex[3 * v + 1], Vector512<float>.Zero);
                    if (third) p2 += Avx512F.PermuteVar16x32x2(add, ScatterIndex[3 * v + 2], Vector512<float>.Zero);
                }
                if (whole) { p0.Store(d); p1.Store(d + 16); }
                else { Avx512F.MaskStore(d, s0, p0); Avx512F.MaskStore(d + 16, s1, p1); }
                if (third) Avx512F.MaskStore(d + 32, s2, p2);
            }
        }
        return j;
    }

    /// <summary>
    /// <see cref="MaxBackwardStride2Columns"/> for 3×3 windows with all three rows inside the plane, on the groups of 16
    /// outputs whose 33 input columns lie inside the row, from column <paramref name="j"/> to at most <paramref name="end"/>.
    /// Each window row's taps split into even and odd columns: tap 0 of output k is even column k, tap 1 odd column k,
    /// tap 2 even column k + 1. The scan keeps, per tap, the lanes whose arg-max it is; the scatter loads the row's 32
    /// floats once as even and odd halves, adds tap 2's share of output k − 1 and then tap 0's of output k to the even
    /// ones (the scalar loop's order: outputs ascending), tap 1's to the odd ones, and stores them interleaved again.
    /// Tap 2 of a group's last output reaches column 32, the next group's first even column: it goes there with the
    /// next group's loads, and into memory after the last group. Returns the column the general path resumes at.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe int MaxBackward3x3Stride2(float* x, float* dx, int rowStep, float* y, float* dy, int j, int end, int pl, int iw)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        // Even lanes from E (indices 0–15), odd lanes from O (16–31), for the first and the second 16 floats.
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        Vector512<float> last0 = default, last1 = default, last2 = default;
        int lastAt = -1;
        for (int at; j + 16 <= end && (at = 2 * j - pl) + 34 <= iw; j += 16)
        {
            var yv = Vector512.Load(y + j);
            // Scan: per window row, its taps from the even and odd columns (the third: the even ones a lane on).
            var found = Vector512<float>.Zero;
            float* r = x + at;
            var (h00, h01, h02) = RowHits(r, even, odd, yv, ref found);
            var (h10, h11, h12) = RowHits(r + rowStep, even, odd, yv, ref found);
            var (h20, h21, h22) = RowHits(r + 2 * rowStep, even, odd, yv, ref found);
            var dyv = Vector512.Load(dy + j);
            RowAdd(dx + at, h00 & dyv, h01 & dyv, h02 & dyv, ref last0, even, odd, low, high);
            RowAdd(dx + rowStep + at, h10 & dyv, h11 & dyv, h12 & dyv, ref last1, even, odd, low, high);
            RowAdd(dx + 2 * rowStep + at, h20 & dyv, h21 & dyv, h22 & dyv, ref last2, even, odd, low, high);
            lastAt = at;
        }
        if (lastAt >= 0)
        {
            // The last group's tap-2 share of its last output, column 32 past it.
            dx[lastAt + 32] += last0.GetElement(15);
            dx[rowStep + lastAt + 32] += last1.GetElement(15);
            dx[2 * rowStep + lastAt + 32] += last2.GetElement(15);
        }
        return j;
    }

    /// <summary>One window row's three taps at 16 outputs: the lanes where each is the first (after <paramref name="found"/>) to equal y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe (Vector512<float>, Vector512<float>, Vector512<float>) RowHits(float* r, Vector512<int> even, Vector512<int> odd, Vector512<float> y, ref Vector512<float> found)
    {
        var (t0, t1, t2) = RowTaps3(r, even, odd);
        var h0 = Vector512.AndNot(Vector512.Equals(t0, y), found); found |= h0;
        var h1 = Vector512.AndNot(Vector512.Equals(t1, y), found); found |= h1;
        var h2 = Vector512.AndNot(Vector512.Equals(t2, y), found); found |= h2;
        return (h0, h1, h2);
    }

    /// <summary>
    /// One window row's additions for 16 outputs: a0, a1, a2 are the taps' shares (dy where the tap is the arg-max, else
    /// +0); <paramref name="last"/> holds the previous group's a2 (its lane 15 belongs to this group's first even
    /// column) and takes this group's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void RowAdd(float* d, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, ref Vector512<float> last,
        Vector512<int> even, Vector512<int> odd, Vector512<int> low, Vector512<int> high)
    {
        Vector512<float> lo = Vector512.Load(d), hi = Vector512.Load(d + 16);
        var e = Avx512F.PermuteVar16x32x2(lo, even, hi);
        var o = Avx512F.PermuteVar16x32x2(lo, odd, hi);
        e = e + Avx512F.AlignRight32(a2.AsInt32(), last.AsInt32(), 15).AsSingle() + a0;
        o += a1;
        Avx512F.PermuteVar16x32x2(e, low, o).Store(d);
        Avx512F.PermuteVar16x32x2(e, high, o).Store(d + 16);
        last = a2;
    }

    /// <summary>Spreads dy over each window with forward's divisor (adds): per output row, the shares are gathered into one input row, then added to every valid input row.</summary>
    public static void AverageBackward(in Pool2DGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        var (rows, cols) = Taps(g);
        int oh = g.OutHeight, ow = g.OutWidth, iw = g.InWidth, plane = g.InHeight * iw;
        bool includePad = g.CountIncludePad;
        unsafe
        {
            fixed (float* pdy = dy, pdx = dx)
            {
                nint dyp = (nint)pdy, dxp = (nint)pdx;
                Workers.For(g.Batch * g.Channels, WorkPerPlane(g), (p0, p1) =>
                {
                    var tmp = ArrayPool<float>.Shared.Rent(iw);
                    var row = tmp.AsSpan(0, iw);
                    for (int p = p0; p < p1; p++)
                    {
                        var dys = new ReadOnlySpan<float>((float*)dyp + (long)p * oh * ow, oh * ow);
                        var dxs = new Span<float>((float*)dxp + (long)p * plane, plane);
                        for (int i = 0; i < oh; i++)
                        {
                            int n = rows.Count[i];
                            if (n == 0) continue;
                            row.Clear();
                            for (int j = 0; j < ow; j++)
                            {
                                int c = cols.Count[j], at = cols.First[j], d = cols.Dilation;
                                int count = includePad ? rows.Padded[i] * cols.Padded[j] : n * c;
                                if (c == 0 || count <= 0) continue;
                                float share = dys[i * ow + j] / count;
                                for (int v = 0; v < c; v++) row[at + v * d] += share;
                            }
                            for (int u = 0; u < n; u++)
                            {
                                var target = dxs.Slice((rows.First[i] + u * rows.Dilation) * iw, iw);
                                TensorPrimitives.Add(target, row, target);
                            }
                        }
                    }
                    ArrayPool<float>.Shared.Return(tmp);
                });
            }
        }
    }

    public static void GlobalAverage(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint xp = (nint)px, yp = (nint)py;
                Workers.For(planes, planeSize, (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++)
                        ((float*)yp)[p] = TensorPrimitives.Sum(new ReadOnlySpan<float>((float*)xp + (long)p * planeSize, planeSize)) / planeSize;
                });
            }
        }
    }

    public static void GlobalMax(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint xp = (nint)px, yp = (nint)py;
                Workers.For(planes, planeSize, (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++)
                        ((float*)yp)[p] = TensorPrimitives.Max(new ReadOnlySpan<float>((float*)xp + (long)p * planeSize, planeSize));
                });
            }
        }
    }
}
