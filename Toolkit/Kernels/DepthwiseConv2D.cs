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
        var src = new ReadOnlySpan<float>(x + (long)p * h * wd, h * wd);
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
                    var outRow = dst.Slice(i * ow + j0, j1 - j0);
                    if (g.StrideW == 1)
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src.Slice(yy * wd + j0 + dx, j1 - j0), k, outRow, outRow);
                    else
                    {
                        int s0 = yy * wd + j0 * g.StrideW + dx;
                        for (int j = 0; j < outRow.Length; j++) outRow[j] += k * src[s0 + j * g.StrideW];
                    }
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
        var grad = new ReadOnlySpan<float>(dy + (long)p * oh * ow, oh * ow);
        var dst = new Span<float>(dx + (long)p * h * wd, h * wd);
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
                    var gRow = grad.Slice(i * ow + j0, j1 - j0);
                    if (g.StrideW == 1)
                    {
                        var inRow = dst.Slice(yy * wd + j0 + off, j1 - j0);
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gRow, k, inRow, inRow);
                    }
                    else
                    {
                        int s0 = yy * wd + j0 * g.StrideW + off;
                        for (int j = 0; j < gRow.Length; j++) dst[s0 + j * g.StrideW] += k * gRow[j];
                    }
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
        var src = new ReadOnlySpan<float>(x + (long)p * h * wd, h * wd);
        var grad = new ReadOnlySpan<float>(dy + (long)p * oh * ow, oh * ow);
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
                    var gRow = grad.Slice(i * ow + j0, j1 - j0);
                    if (g.StrideW == 1) acc += System.Numerics.Tensors.TensorPrimitives.Dot(gRow, src.Slice(yy * wd + j0 + off, j1 - j0));
                    else
                    {
                        int s0 = yy * wd + j0 * g.StrideW + off;
                        for (int j = 0; j < gRow.Length; j++) acc += gRow[j] * src[s0 + j * g.StrideW];
                    }
                }
                filter[u * g.KernelW + v] += acc;
            }
    }
}
