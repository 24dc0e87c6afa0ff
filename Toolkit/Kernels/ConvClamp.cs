using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Bounds a convolution kernel applies to each output value while it is still in a register, after its bias and an
/// optional residual: y = min(max(y + r, <see cref="Min"/>), <see cref="Max"/>). Relu is (0, +∞), Relu6 (0, 6), Clip
/// (a, b). NaN stays NaN (IEEE maximum and minimum, as the Relu and Clip ops' own kernels), and max is taken before
/// min, as Clip does, so the values equal the separate passes bit for bit.
/// </summary>
public readonly record struct ConvClamp(float Min, float Max)
{
    /// <summary>No bounds: only the residual (if any) is added.</summary>
    public static ConvClamp None => new(float.NegativeInfinity, float.PositiveInfinity);

    /// <summary>Relu: (0, +∞).</summary>
    public static ConvClamp Relu => new(0, float.PositiveInfinity);

    /// <summary>Whether a lower bound is applied.</summary>
    public bool HasMin => !float.IsNegativeInfinity(Min);

    /// <summary>Whether an upper bound is applied.</summary>
    public bool HasMax => !float.IsPositiveInfinity(Max);
}

/// <summary>
/// A convolution's finishing in registers, as the GEMM and the direct kernels see it: per row of C (one filter) a
/// bias, a residual laid out as C (same offsets from <see cref="Origin"/>), then a <see cref="ConvClamp"/>.
/// </summary>
internal unsafe struct ConvFinish
{
    /// <summary>Bias per row of C (already at the first row's filter), or null.</summary>
    public float* Bias;
    /// <summary>Residual value of C's element at <c>c</c> is <c>Residual[c − Origin]</c>; null without a residual.</summary>
    public float* Residual;
    /// <summary>The address in C the residual's first element belongs to.</summary>
    public float* Origin;
    public float Min, Max;
    public bool HasMin, HasMax;

    public ConvFinish(float* bias, float* residual, float* origin, ConvClamp clamp)
    {
        Bias = bias; Residual = residual; Origin = origin;
        Min = clamp.Min; Max = clamp.Max; HasMin = clamp.HasMin; HasMax = clamp.HasMax;
    }

    /// <summary>Whether it changes anything (a bias, a residual or a bound).</summary>
    public readonly bool Acts => Bias != null || Residual != null || HasMin || HasMax;

    /// <summary>The same finishing for a C that starts <paramref name="rows"/> rows further on (row stride of C irrelevant: only the bias moves).</summary>
    public readonly ConvFinish Rows(int rows) { var f = this; if (f.Bias != null) f.Bias += rows; return f; }

    /// <summary>v + bias, + the residual at <paramref name="c"/>'s offset, then the bounds (one row's 16 lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector512<float> Apply(Vector512<float> v, float bias, float* c)
    {
        if (Bias != null) v += Vector512.Create(bias);
        if (Residual != null) v += Vector512.Load(Residual + (c - Origin));
        if (HasMin) v = Vector512.Max(v, Vector512.Create(Min));
        if (HasMax) v = Vector512.Min(v, Vector512.Create(Max));
        return v;
    }

    /// <summary>As above for 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector256<float> Apply(Vector256<float> v, float bias, float* c)
    {
        if (Bias != null) v += Vector256.Create(bias);
        if (Residual != null) v += Vector256.Load(Residual + (c - Origin));
        if (HasMin) v = Vector256.Max(v, Vector256.Create(Min));
        if (HasMax) v = Vector256.Min(v, Vector256.Create(Max));
        return v;
    }

    /// <summary>As above in <see cref="System.Numerics.Vector{T}"/> lanes (the few-channel kernel's tail).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly System.Numerics.Vector<float> Apply(System.Numerics.Vector<float> v, float bias, float* c)
    {
        if (Bias != null) v += new System.Numerics.Vector<float>(bias);
        if (Residual != null) v += System.Numerics.Vector.Load(Residual + (c - Origin));
        if (HasMin) v = System.Numerics.Vector.Max(v, new System.Numerics.Vector<float>(Min));
        if (HasMax) v = System.Numerics.Vector.Min(v, new System.Numerics.Vector<float>(Max));
        return v;
    }

    /// <summary>As above for 4 lanes (one output row of a Winograd tile), bias excluded (the transform adds it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector128<float> Apply(Vector128<float> v, float* c)
    {
        if (Residual != null) v += Vector128.Load(Residual + (c - Origin));
        if (HasMin) v = Vector128.Max(v, Vector128.Create(Min));
        if (HasMax) v = Vector128.Min(v, Vector128.Create(Max));
        return v;
    }

    /// <summary>The bounds alone on the lanes of <typeparamref name="T"/> (no residual: a caller's lanes not laid out as C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T Bound<T>(T v) where T : unmanaged, ILanes<T>
    {
        if (HasMin) v = T.Max(v, Min);
        if (HasMax) v = T.Min(v, Max);
        return v;
    }

    /// <summary>One value, bias excluded: the scalar form of the same operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Apply(float v, float* c)
    {
        if (Residual != null) v += Residual[c - Origin];
        if (HasMin) v = MathF.Max(v, Min);
        if (HasMax) v = MathF.Min(v, Max);
        return v;
    }

    /// <summary>
    /// The finishing of an already written stretch c[0, length), all in row <paramref name="row"/> of C (bias index),
    /// through <see cref="TensorPrimitives"/> — the same operations in the same order as the register path.
    /// </summary>
    public readonly void ApplyInPlace(float* c, int length, int row)
    {
        var s = new Span<float>(c, length);
        if (Bias != null) TensorPrimitives.Add(s, Bias[row], s);
        if (Residual != null) TensorPrimitives.Add(s, new ReadOnlySpan<float>(Residual + (c - Origin), length), s);
        if (HasMin) TensorPrimitives.Max(s, Min, s);
        if (HasMax) TensorPrimitives.Min(s, Max, s);
    }

    /// <summary>An mrEff×nrEff corner of C (row stride ldc) from row <paramref name="row"/> on, finished in place.</summary>
    public readonly void ApplyInPlace(float* c, int ldc, int rows, int length, int row)
    {
        for (int r = 0; r < rows; r++) ApplyInPlace(c + (long)r * ldc, length, row + r);
    }
}
