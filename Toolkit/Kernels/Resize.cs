using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Resize kernels. The coordinate mapping is evaluated once per axis into tables (<see cref="Tables"/>): the leading
/// axes (all but the last two) map every output index to one input index, the last two axes to a pair of neighbours
/// and the weight of the second (0 in nearest mode), or to "outside" (tf_crop_and_resize's extrapolation). The forward
/// then gathers plane by plane, output planes spread across threads; the backward is its adjoint, scatter-adding each
/// output gradient with the same weights. <see cref="Reference.ReferenceResize"/> is the element-by-element spec.
/// </summary>
public static class Resize
{
    /// <summary>Per-axis index tables of a <see cref="ResizeGeometry"/>.</summary>
    public sealed class Tables
    {
        /// <summary>For each leading axis, the input index of every output index.</summary>
        public required int[][] Leading { get; init; }
        /// <summary>Second-to-last axis: first and second neighbour, weight of the second; H0 = −1 marks an extrapolated row.</summary>
        public required int[] H0 { get; init; }
        /// <summary>Second-to-last axis: the second neighbour of every output row.</summary>
        public required int[] H1 { get; init; }
        /// <summary>Second-to-last axis: the weight of the second neighbour (0 in nearest mode).</summary>
        public required float[] HW { get; init; }
        /// <summary>Last axis, as for the rows: first neighbour (−1: extrapolated).</summary>
        public required int[] W0 { get; init; }
        /// <summary>Last axis: second neighbour.</summary>
        public required int[] W1 { get; init; }
        /// <summary>Last axis: weight of the second neighbour.</summary>
        public required float[] WW { get; init; }
        /// <summary>Whether the leading axes map each output plane to its own input plane (planes then never share a source).</summary>
        public required bool LeadingIdentity { get; init; }
    }

    /// <summary>Evaluates the coordinate mapping of every axis.</summary>
    public static Tables Build(ResizeGeometry g)
    {
        int rank = g.In.Length;
        if (rank < 2) throw new ArgumentException("Resize kernels work on rank 2 and above.");
        var leading = new int[rank - 2][];
        bool identity = true;
        for (int a = 0; a < rank - 2; a++)
        {
            leading[a] = new int[g.Out[a]];
            for (int x = 0; x < g.Out[a]; x++)
            {
                float c = g.Original(a, x);
                leading[a][x] = g.Extrapolates(a, c) ? -1 : g.Nearest(a, c);
                identity &= leading[a][x] == x && g.In[a] == g.Out[a];
            }
        }
        var (h0, h1, hw) = Axis(g, rank - 2);
        var (w0, w1, ww) = Axis(g, rank - 1);
        return new Tables { Leading = leading, H0 = h0, H1 = h1, HW = hw, W0 = w0, W1 = w1, WW = ww, LeadingIdentity = identity };
    }

    static (int[] I0, int[] I1, float[] W) Axis(ResizeGeometry g, int a)
    {
        int n = g.Out[a], len = g.In[a];
        var i0 = new int[n]; var i1 = new int[n]; var w = new float[n];
        for (int x = 0; x < n; x++)
        {
            float c = g.Original(a, x);
            if (g.Extrapolates(a, c)) { i0[x] = -1; continue; }
            if (g.Mode == ResizeMode.Linear)
            {
                float cc = Math.Clamp(c, 0, len - 1);
                i0[x] = Math.Min((int)cc, len - 1);
                i1[x] = Math.Min(i0[x] + 1, len - 1);
                w[x] = cc - i0[x];
            }
            else { i0[x] = i1[x] = g.Nearest(a, c); }
        }
        return (i0, i1, w);
    }

    /// <summary>The input plane (flat index over the leading axes) output plane <paramref name="p"/> reads, or −1 when it extrapolates.</summary>
    static long SourcePlane(ResizeGeometry g, Tables t, long p)
    {
        int lead = g.In.Length - 2;
        long src = 0, stride = 1, rem = p;
        for (int a = lead - 1; a >= 0; a--)
        {
            int o = (int)(rem % g.Out[a]); rem /= g.Out[a];
            int i = t.Leading[a][o];
            if (i < 0) return -1;
            src += i * stride; stride *= g.In[a];
        }
        return src;
    }

    static int Planes(int[] shape) { long p = 1; for (int a = 0; a < shape.Length - 2; a++) p *= shape[a]; return checked((int)p); }

    /// <summary>y = resize(x): every output element from its (up to four) input neighbours.</summary>
    public static void Forward(ResizeGeometry g, Tables t, ReadOnlySpan<float> x, Span<float> y)
    {
        int rank = g.In.Length, inH = g.In[rank - 2], inW = g.In[rank - 1], outH = g.Out[rank - 2], outW = g.Out[rank - 1];
        int planes = Planes(g.Out);
        long inPlane = (long)inH * inW, outPlane = (long)outH * outW;
        bool linear = g.Mode == ResizeMode.Linear;
        float extra = g.ExtrapolationValue;
        unsafe
        {
            fixed (float* px = x, py = y)
            {
                nint xp = (nint)px, yp = (nint)py;
                Workers.For(planes, outPlane * (linear ? 8 : 2), (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++)
                    {
                        float* dst = (float*)yp + p * outPlane;
                        long src = SourcePlane(g, t, p);
                        if (src < 0) { new Span<float>(dst, (int)outPlane).Fill(extra); continue; }
                        float* plane = (float*)xp + src * inPlane;
                        for (int oh = 0; oh < outH; oh++, dst += outW)
                        {
                            if (t.H0[oh] < 0) { new Span<float>(dst, outW).Fill(extra); continue; }
                            float* r0 = plane + (long)t.H0[oh] * inW;
                            if (!linear)
                            {
                                // Nearest: a gather along the row.
                                for (int ow = 0; ow < outW; ow++) dst[ow] = t.W0[ow] < 0 ? extra : r0[t.W0[ow]];
                                continue;
                            }
                            float* r1 = plane + (long)t.H1[oh] * inW;
                            float fh = t.HW[oh], gh = 1 - fh;
                            for (int ow = 0; ow < outW; ow++)
                            {
                                int c0 = t.W0[ow];
                                if (c0 < 0) { dst[ow] = extra; continue; }
                                int c1 = t.W1[ow];
                                float fw = t.WW[ow], gw = 1 - fw;
                                // Two 1-D interpolations along the rows, then one between them.
                                dst[ow] = gh * (gw * r0[c0] + fw * r0[c1]) + fh * (gw * r1[c0] + fw * r1[c1]);
                            }
                        }
                    }
                });
            }
        }
    }

    /// <summary>
    /// dx += resizeᵀ(dy): each output gradient scatter-added to the neighbours it was read from, with the same weights.
    /// Planes run in parallel when each output plane has its own source plane; otherwise on one thread.
    /// </summary>
    public static void Backward(ResizeGeometry g, Tables t, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int rank = g.In.Length, inH = g.In[rank - 2], inW = g.In[rank - 1], outH = g.Out[rank - 2], outW = g.Out[rank - 1];
        int planes = Planes(g.Out);
        long inPlane = (long)inH * inW, outPlane = (long)outH * outW;
        bool linear = g.Mode == ResizeMode.Linear;
        unsafe
        {
            fixed (float* pdy = dy, pdx = dx)
            {
                nint dyp = (nint)pdy, dxp = (nint)pdx;
                void Range(int p0, int p1)
                {
                    for (int p = p0; p < p1; p++)
                    {
                        long src = SourcePlane(g, t, p);
                        if (src < 0) continue;
                        float* grad = (float*)dyp + p * outPlane;
                        float* plane = (float*)dxp + src * inPlane;
                        for (int oh = 0; oh < outH; oh++, grad += outW)
                        {
                            if (t.H0[oh] < 0) continue;
                            float* r0 = plane + (long)t.H0[oh] * inW;
                            if (!linear)
                            {
                                for (int ow = 0; ow < outW; ow++) if (t.W0[ow] >= 0) r0[t.W0[ow]] += grad[ow];
                                continue;
                            }
                            float* r1 = plane + (long)t.H1[oh] * inW;
                            float fh = t.HW[oh], gh = 1 - fh;
                            for (int ow = 0; ow < outW; ow++)
                            {
                                int c0 = t.W0[ow];
                                if (c0 < 0) continue;
                                int c1 = t.W1[ow];
                                float fw = t.WW[ow], gw = 1 - fw, v = grad[ow];
                                float top = gh * v, bottom = fh * v;
                                r0[c0] += gw * top; r0[c1] += fw * top;
                                r1[c0] += gw * bottom; r1[c1] += fw * bottom;
                            }
                        }
                    }
                }
                if (t.LeadingIdentity) Workers.For(planes, outPlane * (linear ? 8 : 2), Range);
                else Range(0, planes);
            }
        }
    }
}
