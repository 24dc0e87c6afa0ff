using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TransferKit.FineTune.Caching;

/// <summary>Converts one sample's activations between float32 and the bytes of a cache record.</summary>
public static class FeatureEncoding
{
    /// <summary>Bytes per element of <paramref name="precision"/>.</summary>
    public static int ElementBytes(FeaturePrecision precision) => precision switch
    {
        FeaturePrecision.Fp32 => sizeof(float),
        FeaturePrecision.Fp16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown feature precision."),
    };

    /// <summary>Largest magnitude a half can hold (finite).</summary>
    public const float HalfMax = 65504f;

    /// <summary>
    /// Writes <paramref name="values"/> into <paramref name="record"/> (exactly values.Length·ElementBytes bytes).
    /// fp16 rounds to nearest even through the vectorized <see cref="TensorPrimitives.ConvertToHalf"/>; the caller
    /// checks the range first (<see cref="FitsHalf"/>).
    /// </summary>
    public static void Encode(ReadOnlySpan<float> values, Span<byte> record, FeaturePrecision precision)
    {
        if (precision == FeaturePrecision.Fp32) MemoryMarshal.AsBytes(values).CopyTo(record);
        else TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(record));
    }

    /// <summary>Reads a record back into float32 (fp16 widens exactly, vectorized).</summary>
    public static void Decode(ReadOnlySpan<byte> record, Span<float> values, FeaturePrecision precision)
    {
        if (precision == FeaturePrecision.Fp32) MemoryMarshal.Cast<byte, float>(record).CopyTo(values);
        else TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(record), values);
    }

    /// <summary>Whether every value is within the finite half range (|x| ≤ 65504, no NaN); <paramref name="worst"/> is the largest magnitude.</summary>
    public static bool FitsHalf(ReadOnlySpan<float> values, out float worst)
    {
        // MaxMagnitude propagates NaN, so one NaN fails the check too.
        worst = values.IsEmpty ? 0 : TensorPrimitives.MaxMagnitude(values);
        return Math.Abs(worst) <= HalfMax;
    }
}
