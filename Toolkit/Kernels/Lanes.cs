using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// A register of float lanes, so a kernel is written once over the lane type: <see cref="Lanes512"/> (16 lanes),
/// <see cref="Lanes256"/> (8) and <see cref="Lane1"/> (one float: the scalar path and the reference expression).
/// Every operation is the same IEEE expression on every type (MulAdd is fused on all three), so a kernel gives
/// bit-identical results whichever type runs it and the scalar tail is the vector body's exact semantics.
/// </summary>
internal unsafe interface ILanes<T> where T : unmanaged, ILanes<T>
{
    static abstract int Count { get; }
    static abstract T Load(float* p);
    static abstract void Store(T v, float* p);
    static abstract T operator +(T a, T b);
    static abstract T operator -(T a, T b);
    static abstract T operator *(T a, float s);
    /// <summary>a·s + c with one rounding.</summary>
    static abstract T MulAdd(T a, float s, T c);
    /// <summary>IEEE maximum with s on every lane (NaN stays NaN), as <see cref="ConvClamp"/> and the Relu and Clip kernels.</summary>
    static abstract T Max(T a, float s);
    /// <summary>IEEE minimum with s on every lane (NaN stays NaN).</summary>
    static abstract T Min(T a, float s);
    /// <summary>s on every lane.</summary>
    static abstract T Create(float s);
    /// <summary>Bit k set where lane k passes <see cref="BitMask.Passes"/> (lo &lt; v, not v ≥ hi).</summary>
    static abstract uint PassBits(T v, float lo, float hi);
}

/// <summary>16 floats in a zmm register.</summary>
internal unsafe struct Lanes512 : ILanes<Lanes512>
{
    Vector512<float> _v;
    Lanes512(Vector512<float> v) => _v = v;
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes512 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator -(Lanes512 a, Lanes512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator *(Lanes512 a, float s) => new(a._v * s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MulAdd(Lanes512 a, float s, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, Vector512.Create(s), c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Max(Lanes512 a, float s) => new(Vector512.Max(a._v, Vector512.Create(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Min(Lanes512 a, float s) => new(Vector512.Min(a._v, Vector512.Create(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Create(float s) => new(Vector512.Create(s));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PassBits(Lanes512 v, float lo, float hi) =>
        (uint)Vector512.AndNot(Vector512.GreaterThan(v._v, Vector512.Create(lo)), Vector512.GreaterThanOrEqual(v._v, Vector512.Create(hi))).ExtractMostSignificantBits();

    /// <summary>Lane indices 0…15.</summary>
    public static Vector512<int> Indices => Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /// <summary>A mask for AVX-512 masked loads and stores: every bit set in lanes below <paramref name="count"/> (none for count ≤ 0, all from 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes(int count) => Vector512.LessThan(Indices, Vector512.Create(count)).AsSingle();
}

/// <summary>8 floats in a ymm register.</summary>
internal unsafe struct Lanes256 : ILanes<Lanes256>
{
    Vector256<float> _v;
    Lanes256(Vector256<float> v) => _v = v;
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes256 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator -(Lanes256 a, Lanes256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator *(Lanes256 a, float s) => new(a._v * s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MulAdd(Lanes256 a, float s, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, Vector256.Create(s), c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Max(Lanes256 a, float s) => new(Vector256.Max(a._v, Vector256.Create(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Min(Lanes256 a, float s) => new(Vector256.Min(a._v, Vector256.Create(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Create(float s) => new(Vector256.Create(s));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PassBits(Lanes256 v, float lo, float hi) =>
        Vector256.AndNot(Vector256.GreaterThan(v._v, Vector256.Create(lo)), Vector256.GreaterThanOrEqual(v._v, Vector256.Create(hi))).ExtractMostSignificantBits();
}

/// <summary><see cref="System.Numerics.Vector{T}"/> lanes: whatever width the runtime gives it (8 with AVX2, 4 with SSE only).</summary>
internal unsafe struct LanesVector : ILanes<LanesVector>
{
    System.Numerics.Vector<float> _v;
    LanesVector(System.Numerics.Vector<float> v) => _v = v;
    public static int Count => System.Numerics.Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector Load(float* p) => new(System.Numerics.Vector.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(LanesVector v, float* p) => System.Numerics.Vector.Store(v._v, p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector operator +(LanesVector a, LanesVector b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector operator -(LanesVector a, LanesVector b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector operator *(LanesVector a, float s) => new(a._v * s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LanesVector MulAdd(LanesVector a, float s, LanesVector c) => new(System.Numerics.Vector.FusedMultiplyAdd(a._v, new System.Numerics.Vector<float>(s), c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector Max(LanesVector a, float s) => new(System.Numerics.Vector.Max(a._v, new System.Numerics.Vector<float>(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector Min(LanesVector a, float s) => new(System.Numerics.Vector.Min(a._v, new System.Numerics.Vector<float>(s)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesVector Create(float s) => new(new System.Numerics.Vector<float>(s));
    public static uint PassBits(LanesVector v, float lo, float hi)
    {
        uint bits = 0;
        for (int k = 0; k < Count; k++) if (BitMask.Passes(v._v[k], lo, hi)) bits |= 1u << k;
        return bits;
    }
}

/// <summary>One float: the scalar path.</summary>
internal unsafe struct Lane1 : ILanes<Lane1>
{
    float _v;
    Lane1(float v) => _v = v;
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 Load(float* p) => new(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lane1 v, float* p) => *p = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 operator +(Lane1 a, Lane1 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 operator -(Lane1 a, Lane1 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 operator *(Lane1 a, float s) => new(a._v * s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 MulAdd(Lane1 a, float s, Lane1 c) => new(MathF.FusedMultiplyAdd(a._v, s, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 Max(Lane1 a, float s) => new(MathF.Max(a._v, s));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 Min(Lane1 a, float s) => new(MathF.Min(a._v, s));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lane1 Create(float s) => new(s);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint PassBits(Lane1 v, float lo, float hi) => BitMask.Passes(v._v, lo, hi) ? 1u : 0u;
}
