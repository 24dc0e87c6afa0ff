using System.Runtime.CompilerServices;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Direct depthwise convolution (one filter per channel): for each (image, channel) plane,
/// y[i, j] = bias + Σ_{u,v} w[u, v]·x[i·sh − pt + u·dh, j·sw − pl + v·dw]. Each kernel tap adds a scaled input row
/// segment to the output row (a vector multiply-add when the stride is 1); planes are spread across threads.
/// </summary>
public static class DepthwiseConv2D
{
    public static unsafe void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var (xp, wp, bp, yp) = ((nint)px, (nint)pw, (nint)pb, (nint)py);
            var geo = g;
            bool hasBias = !bias.IsEmpty;
            int planes = g.Batch * g.OutChannels;
            Workers.For(planes, (long)g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
                for (int p = s; p < e; p++) Plane(geo, p, (float*)xp, (float*)wp, hasBias ? (float*)bp : null, (float*)yp);
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

    /// <summary>dx += conv_transpose(dy, w): each kernel tap adds a scaled output-gradient row segment to an input row; planes across threads.</summary>
    public static unsafe void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            var (dyp, wp, dxp) = ((nint)pdy, (nint)pw, (nint)pdx);
            var geo = g;
            Workers.For(g.Batch * g.OutChannels, (long)g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
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

    /// <summary>dW += Σ over images and positions of dy·x at each tap (a dot product of row segments); channels across threads.</summary>
    public static unsafe void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        fixed (float* px = x, pdy = dy, pdw = dw)
        {
            var (xp, dyp, dwp) = ((nint)px, (nint)pdy, (nint)pdw);
            var geo = g;
            Workers.For(g.OutChannels, (long)g.Batch * g.Positions * g.KernelH * g.KernelW, (s, e) =>
            {
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
}
