using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Depthwise convolution with stride 1 or 2 and no dilation, accumulated in registers: each output vector
/// y[i, j..j+L) = bias + Σ_{u,v} w[u, v]·x̃[i·s + u, (j..j+L)·s + v] is summed over all kernel taps before it is
/// stored once (the plane-wide <see cref="DepthwiseConv2D"/> pass reads and writes its accumulator once per tap).
/// The input plane is copied once into a zero-padded buffer split into s column phases (phase q holds padded columns
/// q, q + s, …), so the tap (u, v) of L consecutive outputs is one contiguous load from phase v mod s at column
/// j + v div s even for stride 2. Four output vectors go side by side so the multiply-add chains overlap; the stride-2 split is an AVX2 permute.
/// The weight gradient walks the same slots with one accumulator per tap (<see cref="WeightPlane"/>).
/// </summary>
internal sealed unsafe class DepthwiseRows
{
    readonly Conv2DGeometry _g;
    readonly int _s, _hp, _wq;
    /// <summary>Lanes per output vector ("slot"): 16 (zmm) for a wide forward plane, else <see cref="Vector{T}"/>'s count.</summary>
    readonly int _lanes;
    readonly int[] _offsets;
    /// <summary>Per output vector ("slot": row i, columns [j, j + L)): where its taps start in the buffer, where it goes in the output plane, and how many of its lanes are real.</summary>
    readonly int[] _slotIn, _slotOut, _slotLanes;
    /// <summary>
    /// Per slot, the lanes a plain (not accumulating) store writes: all of them when the lanes past its row land on the
    /// start of the next row inside the plane, which a later slot overwrites, else only the real ones. A 14-wide row in
    /// 16 lanes (or a 7-wide one in 8) then stores one vector instead of fourteen floats; only the plane's last row
    /// takes the scalar tail.
    /// </summary>
    readonly int[] _slotStore;
    /// <summary>The padded, phase-split input plane.</summary>
    readonly float[] _buffer;

    /// <summary>Equal strides of 1 or 2 and no dilation (MobileNet's and EfficientNet's depthwise layers).</summary>
    public static bool Applies(in Conv2DGeometry g) =>
        g.IsDepthwise && g.DilationH == 1 && g.DilationW == 1 && g.StrideH == g.StrideW && g.StrideH is 1 or 2;

    /// <summary>
    /// Tables and buffer for one geometry. <paramref name="wide"/> (forward passes only: <see cref="WeightPlane"/> takes
    /// <see cref="Vector{T}"/> slots) makes the slots 16 lanes when 512-bit vectors are hardware-accelerated and a row
    /// has more outputs than one <see cref="Vector{T}"/> holds: half the instructions per plane for MobileNet's 112-,
    /// 56- and 28-wide planes, where 7-wide ones would waste most of a zmm register.
    /// </summary>
    public DepthwiseRows(in Conv2DGeometry g, bool wide = false)
    {
        _g = g;
        _s = g.StrideW;
        _lanes = wide && Vector512.IsHardwareAccelerated && g.OutWidth > Vector<float>.Count ? Lanes512.Count : Vector<float>.Count;
        int lanes = _lanes;
        int owr = (g.OutWidth + lanes - 1) / lanes * lanes;
        _hp = g.InHeight + g.PadTop + g.PadBottom;
        // Wide enough for every real column and for full vectors past the last output (their lanes are discarded).
        _wq = Math.Max((g.InWidth + g.PadLeft + g.PadRight + _s - 1) / _s, owr + (g.KernelW - 1) / _s);
        _buffer = new float[_s * _hp * _wq];
        _offsets = new int[g.KernelH * g.KernelW];
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
                _offsets[u * g.KernelW + v] = (v % _s) * _hp * _wq + u * _wq + v / _s;
        int perRow = owr / lanes, slots = g.OutHeight * perRow;
        _slotIn = new int[slots]; _slotOut = new int[slots]; _slotLanes = new int[slots]; _slotStore = new int[slots];
        for (int i = 0, q = 0; i < g.OutHeight; i++)
            for (int j = 0; j < g.OutWidth; j += lanes, q++)
            {
                _slotIn[q] = i * _s * _wq + j;
                _slotOut[q] = i * g.OutWidth + j;
                _slotLanes[q] = Math.Min(lanes, g.OutWidth - j);
                _slotStore[q] = _slotOut[q] + lanes <= g.OutHeight * g.OutWidth ? lanes : _slotLanes[q];
            }
    }

    /// <summary>
    /// Copies input plane <paramref name="src"/> into the phase buffer; borders stay zero. Each row of
    /// <paramref name="next"/> (the plane the caller pads next, or null) is asked for from memory as the same row of
    /// this one is copied, so it streams in while this plane is computed: waiting on memory here took half the time of
    /// MobileNetV2's wide planes at batch 32. Prefetches never fault, so a pointer past the last plane is harmless.
    /// </summary>
    void Pad(float* src, float* buf, float* next)
    {
        new Span<float>(buf, _buffer.Length).Clear();
        int h = _g.InHeight, w = _g.InWidth, pl = _g.PadLeft, phase = _hp * _wq;
        // Stride 2: input column x = 2t goes to phase pl mod 2 at t + pl div 2, x = 2t + 1 to the other phase at
        // t + (pl + 1) div 2.
        int evenPhase = (pl & 1) * phase + (pl >> 1), oddPhase = ((pl + 1) & 1) * phase + ((pl + 1) >> 1);
        var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int r = 0; r < h; r++)
        {
            float* row = src + (long)r * w;
            float* dst = buf + (r + _g.PadTop) * _wq;
            if (next != null && Sse.IsSupported)
                for (int f = 0; f < w; f += 16) Sse.Prefetch1(next + (long)r * w + f);
            if (_s == 1) { new ReadOnlySpan<float>(row, w).CopyTo(new Span<float>(dst + pl, w)); continue; }
            int x = 0;
            if (Avx2.IsSupported)
                for (; x + 16 <= w; x += 16)
                {
                    // Each half permuted to (evens, odds), then the two evens halves and the two odds halves joined.
                    var p0 = Avx2.PermuteVar8x32(Avx.LoadVector256(row + x), order);
                    var p1 = Avx2.PermuteVar8x32(Avx.LoadVector256(row + x + 8), order);
                    Avx.Store(dst + evenPhase + x / 2, Avx.Permute2x128(p0, p1, 0x20));
                    Avx.Store(dst + oddPhase + x / 2, Avx.Permute2x128(p0, p1, 0x31));
                }
            for (; x < w; x++) dst[(x & 1) == 0 ? evenPhase + x / 2 : oddPhase + x / 2] = row[x];
        }
    }

    /// <summary>
    /// Output plane p (image n, channel c = p mod C) from input plane p; then <paramref name="epilogue"/> on it. With
    /// <paramref name="accumulate"/> each output vector's sum of taps is added to what y holds (0 + Σ is Σ exactly, so
    /// adding into zeros equals setting).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="nextPlane">The plane the caller computes next (its input is prefetched), or −1.</param>
    /// <param name="clamp">Bounds applied to each output vector before it is stored (not with <paramref name="accumulate"/>).</param>
    public void Plane(int p, float* x, float* w, float* b, float* y, ConvEpilogue? epilogue, bool accumulate = false, int nextPlane = -1, ConvClamp? clamp = null) =>
        PlaneFrom(p, x + (long)p * _g.InHeight * _g.InWidth, w, b, y, epilogue, accumulate,
            nextPlane < 0 ? null : x + (long)nextPlane * _g.InHeight * _g.InWidth, clamp);

    /// <summary><see cref="Plane"/> with input plane p read from <paramref name="source"/> (H×W floats) instead of x.</summary>
    /// <param name="next">The input plane the caller pads next (prefetched, see <see cref="Pad"/>), or null.</param>
    /// <param name="clamp">Bounds applied to each output vector before it is stored (not with <paramref name="accumulate"/>).</param>
    public void PlaneFrom(int p, float* source, float* w, float* b, float* y, ConvEpilogue? epilogue, bool accumulate = false, float* next = null, ConvClamp? clamp = null)
    {
        if (accumulate && clamp != null) throw new ArgumentException("Bounds apply to stored sums, not to accumulated ones.", nameof(clamp));
        var bounds = clamp ?? ConvClamp.None;
        if (_lanes == Lanes512.Count) PlaneFrom<Lanes512>(p, source, w, b, y, accumulate, next, bounds);
        else PlaneFrom<LanesVector>(p, source, w, b, y, accumulate, next, bounds);
        epilogue?.Invoke(p * _g.OutHeight * _g.OutWidth, _g.OutHeight * _g.OutWidth);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void PlaneFrom<T>(int p, float* source, float* w, float* b, float* y, bool accumulate, float* next, ConvClamp bounds) where T : unmanaged, ILanes<T>
    {
        bool hasMin = bounds.HasMin, hasMax = bounds.HasMax;
        float lo = bounds.Min, hi = bounds.Max;
        int c = p % _g.OutChannels, oh = _g.OutHeight, ow = _g.OutWidth, taps = _offsets.Length;
        // The plane's output vectors go four at a time, whatever row they are on, so 7×7 and 14×14 planes get four
        // independent multiply-add chains too; the slot tables hold their offsets (no division in the loop).
        int slots = _slotIn.Length;
        fixed (float* buf = _buffer)
        fixed (int* off = _offsets, sIn = _slotIn, sOut = _slotOut, sLanes = accumulate ? _slotLanes : _slotStore)
        {
            Pad(source, buf, next);
            float* k = w + (long)c * taps;
            float* tail = stackalloc float[T.Count];
            for (int e = 0; e < T.Count; e++) tail[e] = b == null ? 0 : b[c];
            var start = T.Load(tail);
            float* plane = y + (long)p * oh * ow;
            int q = 0;
            for (; q + 4 <= slots; q += 4)
            {
                float* i0 = buf + sIn[q], i1 = buf + sIn[q + 1], i2 = buf + sIn[q + 2], i3 = buf + sIn[q + 3];
                T a0 = start, a1 = start, a2 = start, a3 = start;
                for (int t = 0; t < taps; t++)
                {
                    float kt = k[t];
                    int o = off[t];
                    a0 = T.MulAdd(T.Load(i0 + o), kt, a0);
                    a1 = T.MulAdd(T.Load(i1 + o), kt, a1);
                    a2 = T.MulAdd(T.Load(i2 + o), kt, a2);
                    a3 = T.MulAdd(T.Load(i3 + o), kt, a3);
                }
                if (hasMin) { a0 = T.Max(a0, lo); a1 = T.Max(a1, lo); a2 = T.Max(a2, lo); a3 = T.Max(a3, lo); }
                if (hasMax) { a0 = T.Min(a0, hi); a1 = T.Min(a1, hi); a2 = T.Min(a2, hi); a3 = T.Min(a3, hi); }
                Put(plane + sOut[q], sLanes[q], a0, tail, accumulate);
                Put(plane + sOut[q + 1], sLanes[q + 1], a1, tail, accumulate);
                Put(plane + sOut[q + 2], sLanes[q + 2], a2, tail, accumulate);
                Put(plane + sOut[q + 3], sLanes[q + 3], a3, tail, accumulate);
            }
            for (; q < slots; q++)
            {
                float* i0 = buf + sIn[q];
                T a = start;
                for (int t = 0; t < taps; t++) a = T.MulAdd(T.Load(i0 + off[t]), k[t], a);
                if (hasMin) a = T.Max(a, lo);
                if (hasMax) a = T.Min(a, hi);
                Put(plane + sOut[q], sLanes[q], a, tail, accumulate);
            }
        }
    }

    /// <summary>
    /// dw[c, t] += Σ over the plane's outputs of dy·x̃ at tap t (plane p = image n, channel c): the input plane goes into
    /// the phase buffer as for the forward pass, each output-gradient vector is loaded once (its lanes past the row as
    /// zero) and multiplied into one accumulator per tap, and the accumulators are summed across lanes at the end. 3×3
    /// kernels keep the nine accumulators in registers; other sizes keep them on the stack.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="nextPlane">The plane the caller takes next (its input is prefetched), or −1.</param>
    public void WeightPlane(int p, float* x, float* dy, float* dw, int nextPlane = -1)
    {
        if (_lanes != Vector<float>.Count) throw new InvalidOperationException("The weight gradient walks Vector<float> slots; build these tables without wide.");
        int c = p % _g.OutChannels, oh = _g.OutHeight, ow = _g.OutWidth, taps = _offsets.Length, lanes = Vector<float>.Count;
        int slots = _slotIn.Length;
        fixed (float* buf = _buffer)
        fixed (int* off = _offsets, sIn = _slotIn, sOut = _slotOut, sLanes = _slotLanes)
        {
            Pad(x + (long)p * _g.InHeight * _g.InWidth, buf, nextPlane < 0 ? null : x + (long)nextPlane * _g.InHeight * _g.InWidth);
            float* plane = dy + (long)p * oh * ow;
            float* tail = stackalloc float[lanes];
            float* k = dw + (long)c * taps;
            if (taps == 9)
            {
                Vector<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default, a8 = default;
                int o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3], o4 = off[4], o5 = off[5], o6 = off[6], o7 = off[7], o8 = off[8];
                for (int q = 0; q < slots; q++)
                {
                    var g = Get(plane + sOut[q], sLanes[q], tail);
                    float* i0 = buf + sIn[q];
                    a0 += g * Vector.Load(i0 + o0); a1 += g * Vector.Load(i0 + o1); a2 += g * Vector.Load(i0 + o2);
                    a3 += g * Vector.Load(i0 + o3); a4 += g * Vector.Load(i0 + o4); a5 += g * Vector.Load(i0 + o5);
                    a6 += g * Vector.Load(i0 + o6); a7 += g * Vector.Load(i0 + o7); a8 += g * Vector.Load(i0 + o8);
                }
                k[0] += Vector.Sum(a0); k[1] += Vector.Sum(a1); k[2] += Vector.Sum(a2);
                k[3] += Vector.Sum(a3); k[4] += Vector.Sum(a4); k[5] += Vector.Sum(a5);
                k[6] += Vector.Sum(a6); k[7] += Vector.Sum(a7); k[8] += Vector.Sum(a8);
                return;
            }
            var acc = stackalloc Vector<float>[taps];
            for (int t = 0; t < taps; t++) acc[t] = default;
            for (int q = 0; q < slots; q++)
            {
                var g = Get(plane + sOut[q], sLanes[q], tail);
                float* i0 = buf + sIn[q];
                for (int t = 0; t < taps; t++) acc[t] += g * Vector.Load(i0 + off[t]);
            }
            for (int t = 0; t < taps; t++) k[t] += Vector.Sum(acc[t]);
        }
    }

    /// <summary>Loads a slot's vector; lanes past its row read as zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Get(float* src, int real, float* tail)
    {
        if (real == Vector<float>.Count) return Vector.Load(src);
        for (int e = 0; e < Vector<float>.Count; e++) tail[e] = e < real ? src[e] : 0f;
        return Vector.Load(tail);
    }

    /// <summary>Stores (or adds) a slot's vector; one that would reach past its row goes whole into scratch and only its real lanes are copied.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put<T>(float* dst, int real, T v, float* tail, bool accumulate) where T : unmanaged, ILanes<T>
    {
        if (real == T.Count) { T.Store(accumulate ? T.Load(dst) + v : v, dst); return; }
        T.Store(v, tail);
        for (int e = 0; e < real; e++) dst[e] = accumulate ? dst[e] + tail[e] : tail[e];
    }
}
