using System.Numerics;
using System.Runtime.CompilerServices;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Depthwise convolution with stride 1 or 2 and no dilation, accumulated in registers: each output vector
/// y[i, j..j+L) = bias + Σ_{u,v} w[u, v]·x̃[i·s + u, (j..j+L)·s + v] is summed over all kernel taps before it is
/// stored once (the plane-wide <see cref="DepthwiseConv2D"/> pass reads and writes its accumulator once per tap).
/// The input plane is copied once into a zero-padded buffer split into s column phases (phase q holds padded columns
/// q, q + s, …), so the tap (u, v) of L consecutive outputs is one contiguous load from phase v mod s at column
/// j + v div s even for stride 2. Four output vectors go side by side so the multiply-add chains overlap.
/// </summary>
internal sealed unsafe class DepthwiseRows
{
    readonly Conv2DGeometry _g;
    readonly int _s, _hp, _wq;
    readonly int[] _offsets;
    /// <summary>The padded, phase-split input plane.</summary>
    readonly float[] _buffer;

    /// <summary>Equal strides of 1 or 2 and no dilation (MobileNet's and EfficientNet's depthwise layers).</summary>
    public static bool Applies(in Conv2DGeometry g) =>
        g.IsDepthwise && g.DilationH == 1 && g.DilationW == 1 && g.StrideH == g.StrideW && g.StrideH is 1 or 2;

    public DepthwiseRows(in Conv2DGeometry g)
    {
        _g = g;
        _s = g.StrideW;
        int lanes = Vector<float>.Count;
        int owr = (g.OutWidth + lanes - 1) / lanes * lanes;
        _hp = g.InHeight + g.PadTop + g.PadBottom;
        // Wide enough for every real column and for full vectors past the last output (their lanes are discarded).
        _wq = Math.Max((g.InWidth + g.PadLeft + g.PadRight + _s - 1) / _s, owr + (g.KernelW - 1) / _s);
        _buffer = new float[_s * _hp * _wq];
        _offsets = new int[g.KernelH * g.KernelW];
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
                _offsets[u * g.KernelW + v] = (v % _s) * _hp * _wq + u * _wq + v / _s;
    }

    /// <summary>Copies input plane <paramref name="src"/> into the phase buffer; borders stay zero.</summary>
    void Pad(float* src, float* buf)
    {
        new Span<float>(buf, _buffer.Length).Clear();
        int h = _g.InHeight, w = _g.InWidth, pl = _g.PadLeft, phase = _hp * _wq;
        for (int r = 0; r < h; r++)
        {
            float* row = src + (long)r * w;
            float* dst = buf + (r + _g.PadTop) * _wq;
            if (_s == 1) { new ReadOnlySpan<float>(row, w).CopyTo(new Span<float>(dst + pl, w)); continue; }
            for (int x = 0; x < w; x++)
            {
                int c = x + pl;
                dst[(c & 1) * phase + (c >> 1)] = row[x];
            }
        }
    }

    /// <summary>Output plane p (image n, channel c = p mod C) from input plane p; then <paramref name="epilogue"/> on it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(int p, float* x, float* w, float* b, float* y, ConvEpilogue? epilogue)
    {
        int c = p % _g.OutChannels, oh = _g.OutHeight, ow = _g.OutWidth, taps = _offsets.Length, lanes = Vector<float>.Count;
        fixed (float* buf = _buffer)
        fixed (int* off = _offsets)
        {
            Pad(x + (long)p * _g.InHeight * _g.InWidth, buf);
            float* k = w + (long)c * taps;
            var start = new Vector<float>(b == null ? 0 : b[c]);
            float* tail = stackalloc float[lanes];
            float* plane = y + (long)p * oh * ow;
            for (int i = 0; i < oh; i++)
            {
                float* rowIn = buf + i * _s * _wq;
                float* rowOut = plane + (long)i * ow;
                int j = 0;
                // Four vectors of outputs at once: four independent multiply-add chains over the taps.
                for (; j <= ow - 4 * lanes; j += 4 * lanes)
                {
                    Vector<float> a0 = start, a1 = start, a2 = start, a3 = start;
                    float* at = rowIn + j;
                    for (int t = 0; t < taps; t++)
                    {
                        var kv = new Vector<float>(k[t]);
                        float* src = at + off[t];
                        a0 += kv * Vector.Load(src);
                        a1 += kv * Vector.Load(src + lanes);
                        a2 += kv * Vector.Load(src + 2 * lanes);
                        a3 += kv * Vector.Load(src + 3 * lanes);
                    }
                    Vector.Store(a0, rowOut + j);
                    Vector.Store(a1, rowOut + j + lanes);
                    Vector.Store(a2, rowOut + j + 2 * lanes);
                    Vector.Store(a3, rowOut + j + 3 * lanes);
                }
                // One vector at a time; the last may reach past the row and goes through a scratch vector.
                for (; j < ow; j += lanes)
                {
                    Vector<float> a = start;
                    float* at = rowIn + j;
                    for (int t = 0; t < taps; t++) a += new Vector<float>(k[t]) * Vector.Load(at + off[t]);
                    if (j + lanes <= ow) Vector.Store(a, rowOut + j);
                    else
                    {
                        Vector.Store(a, tail);
                        for (int q = 0; q < ow - j; q++) rowOut[j + q] = tail[q];
                    }
                }
            }
            epilogue?.Invoke(p * oh * ow, oh * ow);
        }
    }
}
