using System.Runtime.CompilerServices;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Direct depthwise convolution (one filter per channel): for each (image, channel) plane,
/// y[i, j] = bias + Σ_{u,v} w[u, v]·x[i·sh − pt + u·dh, j·sw − pl + v·dw]; planes are spread across threads.
/// With stride 1 the plane is copied into a zero-padded buffer and the output is kept at the padded row width, so every
/// kernel tap is one long vector multiply-add over the whole plane (a fixed offset into the padded input) instead of
/// one short one per row — MobileNet's 7×7 and 14×14 planes would otherwise be mostly loop tails. Other strides add
/// each tap row by row.
/// </summary>
public static class DepthwiseConv2D
{
    /// <summary>
    /// y = clamp(depthwise conv(x, w) + bias), then <paramref name="epilogue"/> on each finished plane. 3×3 layers with
    /// stride 1 or 2 and one pixel of padding go through <see cref="Depthwise3x3Direct"/> on AVX-512 hardware (masked
    /// loads straight from the input, no padded copy); other strides 1 and 2 without dilation through
    /// <see cref="DepthwiseRows"/> when vectors are hardware-accelerated. Both sum the taps in registers and bound each
    /// vector before it is stored; the other kernels bound each finished plane.
    /// </summary>
    public static unsafe void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
        ConvEpilogue? epilogue = null, ConvClamp? clamp = null)
    {
        if (clamp is { HasMin: false, HasMax: false }) clamp = null;
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var (xp, wp, bp, yp) = ((nint)px, (nint)pw, (nint)pb, (nint)py);
            var geo = g;
            bool hasBias = !bias.IsEmpty;
            int planes = g.Batch * g.OutChannels;
            int positions = g.Positions;
            var bounds = clamp;
            // The kernels without bounds of their own: each plane bounded as it is finished, then the epilogue.
            ConvEpilogue? finished = bounds is not { } c ? epilogue : (start, length) =>
            {
                new ConvFinish(null, null, null, c).ApplyInPlace((float*)yp + start, length, 0);
                epilogue?.Invoke(start, length);
            };
            Workers.For(planes, (long)g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
                if (Depthwise3x3Direct.Applies(geo))
                {
                    var c = bounds ?? ConvClamp.None;
                    for (int p = s; p < e; p++)
                    {
                        Depthwise3x3Direct.Plane(geo, p, (float*)xp + (long)p * geo.InHeight * geo.InWidth, (float*)wp, hasBias ? (float*)bp : null, (float*)yp, c);
                        epilogue?.Invoke(p * positions, positions);
                    }
                    return;
                }
                if (System.Numerics.Vector.IsHardwareAccelerated && DepthwiseRows.Applies(geo))
                {
                    var rows = new DepthwiseRows(geo, wide: true);
                    for (int p = s; p < e; p++) rows.Plane(p, (float*)xp, (float*)wp, hasBias ? (float*)bp : null, (float*)yp, epilogue, nextPlane: p + 1 < e ? p + 1 : -1, clamp: bounds);
                    return;
                }
                if (Padded.Applies(geo))
                {
                    var pad = new Padded(geo);
                    fixed (float* buf = pad.Buffer)
                        for (int p = s; p < e; p++)
                        {
                            pad.Forward(p, buf, (float*)xp, (float*)wp, hasBias ? (float*)bp : null, (float*)yp);
                            finished?.Invoke(p * positions, positions);
                        }
                    return;
                }
                for (int p = s; p < e; p++)
                {
                    Plane(geo, p, (float*)xp, (float*)wp, hasBias ? (float*)bp : null, (float*)yp);
                    finished?.Invoke(p * positions, positions);
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Plane(in Conv2DGeometry g, int p, float* x, float* w, float* b, float* y)
    {
        int c = p % g.OutChannels;
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        var dst = new Span<float>(y + (long)p * oh * ow, oh * ow);
        dst.Fill(b == null ? 0 : b[c]);
        float* filter = w + (long)c * g.KernelH * g.KernelW;
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
            {
                float k = filter[u * g.KernelW + v];
                int dx = v * g.DilationW - g.PadLeft;
                int j0 = dx >= 0 ? 0 : (-dx + g.StrideW - 1) / g.StrideW;
                int j1 = Math.Min(ow, (wd - dx + g.StrideW - 1) / g.StrideW);
                if (j1 <= j0) continue;
                for (int i = 0; i < oh; i++)
                {
                    int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                    if (yy < 0 || yy >= h) continue;
                    float* outRow = y + (long)p * oh * ow + i * ow + j0;
                    float* inRow = x + (long)p * h * wd + yy * wd + j0 * g.StrideW + dx;
                    if (g.StrideW == 1) Axpy(k, inRow, outRow, j1 - j0);
                    else for (int j = 0; j < j1 - j0; j++) outRow[j] += k * inRow[j * g.StrideW];
                }
            }
    }

    /// <summary>
    /// dx (+)= conv_transpose(dy, w) for strides 1 and 2 without dilation, as a stride-1 forward pass with each filter
    /// turned by 180° and the pads mirrored (k − 1 − p on the leading sides): dx[i, j] = Σ w[u, v]·U[i + pt − u, j + pl − v]
    /// with U = dy for stride 1, and for stride 2 dy spread over a plane twice its size with zeros between
    /// (U[2i, 2j] = dy[i, j]) — four times the multiply-adds of the taps that meet a value, but all of them in vector
    /// registers (<see cref="DepthwiseRows"/>), where the strided scatter runs one scalar at a time. The sums are then
    /// stored or added. Stride-2 3×3 layers that <see cref="Depthwise3x3Direct"/> takes skip the spread plane
    /// (<see cref="Depthwise3x3Direct.DataStride2"/>), stride-1 ones take its forward kernel. Returns false, writing
    /// nothing, for other geometries (pads beyond k − 1) or without vector hardware.
    /// </summary>
    public static unsafe bool DataAsForward(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, bool add)
    {
        int s = g.StrideH;
        if (!g.IsDepthwise || s != g.StrideW || s is not (1 or 2) || g.DilationH != 1 || g.DilationW != 1 || !System.Numerics.Vector.IsHardwareAccelerated) return false;
        if (s == 2 && Depthwise3x3Direct.Applies(g))
        {
            fixed (float* pdy = dy, pw = w, pdx = dx)
            {
                var (dyp, wp, dxp) = ((nint)pdy, (nint)pw, (nint)pdx);
                var geo = g;
                long outPlane = (long)g.OutHeight * g.OutWidth;
                Workers.For(g.Batch * g.OutChannels, (long)g.InHeight * g.InWidth * 9 / 4, (s0, e) =>
                {
                    for (int p = s0; p < e; p++) Depthwise3x3Direct.DataStride2(geo, p, (float*)dyp + p * outPlane, (float*)wp, (float*)dxp, add);
                });
            }
            return true;
        }
        int kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int uh = s * (oh - 1) + 1, uw = s * (ow - 1) + 1;
        int top = kh - 1 - g.PadTop, left = kw - 1 - g.PadLeft;
        int bottom = g.InHeight + kh - 1 - top - uh, right = g.InWidth + kw - 1 - left - uw;
        if (top < 0 || left < 0 || bottom < 0 || right < 0) return false;
        var t = new Conv2DGeometry(g.Batch, g.InChannels, uh, uw, g.OutChannels, kh, kw, 1, 1, 1, 1, top, left, bottom, right, g.Groups);
        if (t.OutHeight != g.InHeight || t.OutWidth != g.InWidth || !DepthwiseRows.Applies(t)) return false;
        int taps = kh * kw;
        var turned = new float[g.OutChannels * taps];
        for (int c = 0; c < g.OutChannels; c++)
            for (int k = 0; k < taps; k++) turned[c * taps + k] = w[c * taps + taps - 1 - k];
        fixed (float* pdy = dy, pw = turned, pdx = dx)
        {
            var (dyp, wp, dxp) = ((nint)pdy, (nint)pw, (nint)pdx);
            Workers.For(t.Batch * t.OutChannels, (long)t.Positions * taps, (s0, e) =>
            {
                bool direct = s == 1 && Depthwise3x3Direct.Applies(t);
                var rows = direct ? null : new DepthwiseRows(t, wide: true);
                var spread = s == 1 ? null : new float[uh * uw];
                fixed (float* up = spread)
                    for (int p = s0; p < e; p++)
                    {
                        float* plane = (float*)dyp + (long)p * oh * ow;
                        if (up != null)
                        {
                            // dy's values on the even rows and columns of a plane of zeros.
                            for (int i = 0; i < oh; i++)
                            {
                                float* row = up + (long)2 * i * uw;
                                for (int j = 0; j < ow; j++) { row[2 * j] = plane[i * ow + j]; if (j + 1 < ow) row[2 * j + 1] = 0; }
                                if (i + 1 < oh) new Span<float>(row + uw, uw).Clear();
                            }
                            plane = up;
                        }
                        if (direct) { Depthwise3x3Direct.Plane(t, p, plane, (float*)wp, null, (float*)dxp, ConvClamp.None, add); continue; }
                        rows!.PlaneFrom(p, plane, (float*)wp, null, (float*)dxp, null, accumulate: add,
                            next: up == null && p + 1 < e ? (float*)dyp + (long)(p + 1) * oh * ow : null);
                    }
            });
        }
        return true;
    }

    /// <summary>dx += conv_transpose(dy, w): each kernel tap adds a scaled output-gradient row segment to an input row; planes across threads.</summary>
    public static unsafe void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            var (dyp, wp, dxp) = ((nint)pdy, (nint)pw, (nint)pdx);
            var geo = g;
            Workers.For(g.Batch * g.OutChannels, (long)g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
                if (Padded.Applies(geo))
                {
                    var pad = new Padded(geo);
                    fixed (float* buf = pad.Buffer)
                        for (int p = s; p < e; p++) pad.BackwardData(p, buf, (float*)dyp, (float*)wp, (float*)dxp);
                    return;
                }
                for (int p = s; p < e; p++) DataPlane(geo, p, (float*)dyp, (float*)wp, (float*)dxp);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void DataPlane(in Conv2DGeometry g, int p, float* dy, float* w, float* dx)
    {
        int c = p % g.OutChannels;
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        float* filter = w + (long)c * g.KernelH * g.KernelW;
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
            {
                float k = filter[u * g.KernelW + v];
                int off = v * g.DilationW - g.PadLeft;
                int j0 = off >= 0 ? 0 : (-off + g.StrideW - 1) / g.StrideW;
                int j1 = Math.Min(ow, (wd - off + g.StrideW - 1) / g.StrideW);
                if (j1 <= j0) continue;
                for (int i = 0; i < oh; i++)
                {
                    int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                    if (yy < 0 || yy >= h) continue;
                    float* gRow = dy + (long)p * oh * ow + i * ow + j0;
                    float* inRow = dx + (long)p * h * wd + yy * wd + j0 * g.StrideW + off;
                    if (g.StrideW == 1) Axpy(k, gRow, inRow, j1 - j0);
                    else for (int j = 0; j < j1 - j0; j++) inRow[j * g.StrideW] += k * gRow[j];
                }
            }
    }

    /// <summary>
    /// dW += Σ over images and positions of dy·x at each tap; channels across threads. 3×3 layers that
    /// <see cref="Depthwise3x3Direct"/> takes keep nine sums in registers over all images of a channel; other strides 1
    /// and 2 go through <see cref="DepthwiseRows"/>, the rest a dot product of row segments per tap.
    /// </summary>
    public static unsafe void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        fixed (float* px = x, pdy = dy, pdw = dw)
        {
            var (xp, dyp, dwp) = ((nint)px, (nint)pdy, (nint)pdw);
            var geo = g;
            Workers.For(g.OutChannels, (long)g.Batch * g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
                if (Depthwise3x3Direct.Applies(geo))
                {
                    for (int c = s; c < e; c++) Depthwise3x3Direct.Weights(geo, c, (float*)xp, (float*)dyp, (float*)dwp);
                    return;
                }
                if (System.Numerics.Vector.IsHardwareAccelerated && DepthwiseRows.Applies(geo))
                {
                    var rows = new DepthwiseRows(geo);
                    for (int c = s; c < e; c++)
                        for (int n = 0; n < geo.Batch; n++)
                            rows.WeightPlane(n * geo.OutChannels + c, (float*)xp, (float*)dyp, (float*)dwp,
                                nextPlane: n + 1 < geo.Batch ? (n + 1) * geo.OutChannels + c : c + 1 < e ? c + 1 : -1);
                    return;
                }
                if (Padded.Applies(geo))
                {
                    var pad = new Padded(geo);
                    fixed (float* buf = pad.Buffer)
                        for (int c = s; c < e; c++)
                            for (int n = 0; n < geo.Batch; n++) pad.BackwardWeight(n * geo.OutChannels + c, buf, (float*)xp, (float*)dyp, (float*)dwp);
                    return;
                }
                for (int c = s; c < e; c++)
                    for (int n = 0; n < geo.Batch; n++) WeightPlane(geo, n * geo.OutChannels + c, (float*)xp, (float*)dyp, (float*)dwp);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void WeightPlane(in Conv2DGeometry g, int p, float* x, float* dy, float* dw)
    {
        int c = p % g.OutChannels;
        int h = g.InHeight, wd = g.InWidth, oh = g.OutHeight, ow = g.OutWidth;
        float* filter = dw + (long)c * g.KernelH * g.KernelW;
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
            {
                int off = v * g.DilationW - g.PadLeft;
                int j0 = off >= 0 ? 0 : (-off + g.StrideW - 1) / g.StrideW;
                int j1 = Math.Min(ow, (wd - off + g.StrideW - 1) / g.StrideW);
                if (j1 <= j0) continue;
                float acc = 0;
                for (int i = 0; i < oh; i++)
                {
                    int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                    if (yy < 0 || yy >= h) continue;
                    float* gRow = dy + (long)p * oh * ow + i * ow + j0;
                    float* inRow = x + (long)p * h * wd + yy * wd + j0 * g.StrideW + off;
                    if (g.StrideW == 1) acc += Dot(gRow, inRow, j1 - j0);
                    else for (int j = 0; j < j1 - j0; j++) acc += gRow[j] * inRow[j * g.StrideW];
                }
                filter[u * g.KernelW + v] += acc;
            }
    }

    /// <summary>y[j] += k·x[j] for j &lt; n: a vector loop inlined into the row loops (row segments are short, so a library call per segment would cost more than the work).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Axpy(float k, float* x, float* y, int n)
    {
        int j = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var vk = new System.Numerics.Vector<float>(k);
            for (; j <= n - w; j += w)
                System.Numerics.Vector.Store(System.Numerics.Vector.Load(y + j) + vk * System.Numerics.Vector.Load(x + j), y + j);
        }
        for (; j < n; j++) y[j] += k * x[j];
    }

    /// <summary>Σ a[j]·b[j] for j &lt; n, vector lanes then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe float Dot(float* a, float* b, int n)
    {
        int j = 0;
        float acc = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var sum = System.Numerics.Vector<float>.Zero;
            for (; j <= n - w; j += w) sum += System.Numerics.Vector.Load(a + j) * System.Numerics.Vector.Load(b + j);
            acc = System.Numerics.Vector.Sum(sum);
        }
        for (; j < n; j++) acc += a[j] * b[j];
        return acc;
    }

    /// <summary>
    /// Stride-1 planes at the padded width Wp: the padded input is Hp×Wp, an output row i sits at [i·Wp, i·Wp + OW)
    /// of a buffer of length L = (OH − 1)·Wp + OW (the columns past OW are scratch), and tap (u, v) reads the padded
    /// input at the fixed offset u·dh·Wp + v·dw.
    /// </summary>
    sealed class Padded
    {
        readonly Conv2DGeometry _g;
        readonly int _hp, _wp, _length;
        /// <summary>Padded input plane, then the output plane at padded width.</summary>
        public readonly float[] Buffer;

        public static bool Applies(in Conv2DGeometry g) => g.StrideH == 1 && g.StrideW == 1;

        public Padded(in Conv2DGeometry g)
        {
            _g = g;
            _hp = g.InHeight + g.PadTop + g.PadBottom; _wp = g.InWidth + g.PadLeft + g.PadRight;
            _length = (g.OutHeight - 1) * _wp + g.OutWidth;
            Buffer = new float[_hp * _wp + _length];
        }

        int Shift(int u, int v) => u * _g.DilationH * _wp + v * _g.DilationW;

        /// <summary>Copies input plane p into the padded buffer (borders zero).</summary>
        unsafe void Pad(float* src, float* pad)
        {
            new Span<float>(pad, _hp * _wp).Clear();
            for (int r = 0; r < _g.InHeight; r++)
                new ReadOnlySpan<float>(src + r * _g.InWidth, _g.InWidth).CopyTo(new Span<float>(pad + (r + _g.PadTop) * _wp + _g.PadLeft, _g.InWidth));
        }

        /// <summary>Copies output-gradient plane p to padded width with zero scratch columns.</summary>
        unsafe void Spread(float* src, float* dst)
        {
            int oh = _g.OutHeight, ow = _g.OutWidth;
            new Span<float>(dst, _length).Clear();
            for (int i = 0; i < oh; i++) new ReadOnlySpan<float>(src + i * ow, ow).CopyTo(new Span<float>(dst + i * _wp, ow));
        }

        public unsafe void Forward(int p, float* buf, float* x, float* w, float* b, float* y)
        {
            int c = p % _g.OutChannels, oh = _g.OutHeight, ow = _g.OutWidth, kh = _g.KernelH, kw = _g.KernelW;
            float* pad = buf, acc = buf + _hp * _wp;
            Pad(x + (long)p * _g.InHeight * _g.InWidth, pad);
            new Span<float>(acc, _length).Fill(b == null ? 0 : b[c]);
            float* filter = w + (long)c * kh * kw;
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++) Axpy(filter[u * kw + v], pad + Shift(u, v), acc, _length);
            float* dst = y + (long)p * oh * ow;
            for (int i = 0; i < oh; i++) new ReadOnlySpan<float>(acc + i * _wp, ow).CopyTo(new Span<float>(dst + i * ow, ow));
        }

        public unsafe void BackwardData(int p, float* buf, float* dy, float* w, float* dx)
        {
            int c = p % _g.OutChannels, kh = _g.KernelH, kw = _g.KernelW, h = _g.InHeight, wd = _g.InWidth;
            float* dpad = buf, grad = buf + _hp * _wp;
            Spread(dy + (long)p * _g.OutHeight * _g.OutWidth, grad);
            new Span<float>(dpad, _hp * _wp).Clear();
            float* filter = w + (long)c * kh * kw;
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++) Axpy(filter[u * kw + v], grad, dpad + Shift(u, v), _length);
            float* dst = dx + (long)p * h * wd;
            for (int r = 0; r < h; r++) Axpy(1, dpad + (r + _g.PadTop) * _wp + _g.PadLeft, dst + r * wd, wd);
        }

        public unsafe void BackwardWeight(int p, float* buf, float* x, float* dy, float* dw)
        {
            int c = p % _g.OutChannels, kh = _g.KernelH, kw = _g.KernelW;
            float* pad = buf, grad = buf + _hp * _wp;
            Pad(x + (long)p * _g.InHeight * _g.InWidth, pad);
            Spread(dy + (long)p * _g.OutHeight * _g.OutWidth, grad);
            float* filter = dw + (long)c * kh * kw;
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++) filter[u * kw + v] += Dot(grad, pad + Shift(u, v), _length);
        }
    }
}
