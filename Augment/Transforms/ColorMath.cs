using System.Numerics.Tensors;

namespace TransferKit.Augment.Transforms;

/// <summary>Vectorized helpers shared by the colour transforms (planar RGB in [0, 1]).</summary>
internal static class ColorMath
{
    /// <summary>torchvision's luma weights for <c>rgb_to_grayscale</c>.</summary>
    public const float LumaR = 0.2989f, LumaG = 0.587f, LumaB = 0.114f;

    /// <summary>gray = 0.2989·R + 0.587·G + 0.114·B, element-wise over planes.</summary>
    public static void Luma(ReadOnlySpan<float> r, ReadOnlySpan<float> g, ReadOnlySpan<float> b, Span<float> gray)
    {
        TensorPrimitives.Multiply(r, LumaR, gray);
        TensorPrimitives.MultiplyAdd(g, LumaG, gray, gray);
        TensorPrimitives.MultiplyAdd(b, LumaB, gray, gray);
    }

    /// <summary>x = clamp(f·x + (1 − f)·other, 0, 1): torchvision's <c>_blend</c> with a per-pixel other.</summary>
    public static void Blend(Span<float> x, ReadOnlySpan<float> other, float f, Span<float> tmp)
    {
        TensorPrimitives.Multiply(other, 1f - f, tmp);
        TensorPrimitives.MultiplyAdd(x, f, tmp, x);
        Clamp01(x);
    }

    /// <summary>x = clamp(f·x + (1 − f)·c, 0, 1) with a constant other.</summary>
    public static void Blend(Span<float> x, float constant, float f)
    {
        TensorPrimitives.Multiply(x, f, x);
        TensorPrimitives.Add(x, (1f - f) * constant, x);
        Clamp01(x);
    }

    public static void Clamp01(Span<float> x)
    {
        TensorPrimitives.Max(x, 0f, x);
        TensorPrimitives.Min(x, 1f, x);
    }
}
