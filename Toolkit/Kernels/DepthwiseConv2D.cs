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
}
