using System.Numerics.Tensors;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>ColorJitter(brightness, contrast, saturation, hue)</c>. Each number b gives a factor uniform in
/// [max(0, 1−b), 1+b] (hue: a shift uniform in [−h, h], h ≤ 0.5); the four adjustments run in a random order, as
/// torchvision draws a permutation first. Brightness scales, contrast blends with the mean luma of the image,
/// saturation blends with the per-pixel luma, hue rotates in HSV. Values are clamped to [0, 1].
/// Expects 3-channel RGB in [0, 1] (before Normalize).
/// </summary>
public sealed class ColorJitter : TensorTransform
{
    public ColorJitter(double brightness = 0, double contrast = 0, double saturation = 0, double hue = 0)
    {
        if (brightness < 0 || contrast < 0 || saturation < 0)
            throw new ArgumentException($"ColorJitter brightness, contrast and saturation must be non-negative (got {brightness}, {contrast}, {saturation}).");
        if (hue is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(hue), hue, "ColorJitter hue must be in [0, 0.5].");
        Brightness = brightness;
        Contrast = contrast;
        Saturation = saturation;
        Hue = hue;
    }

    public double Brightness { get; }
    public double Contrast { get; }
    public double Saturation { get; }
    public double Hue { get; }

    public override void Apply(SampleBuffer img, ref CounterRng rng)
    {
        if (img.Channels != 3) throw new InvalidOperationException($"ColorJitter needs 3 channels, got {img.Channels}; put it before Grayscale.");
        Span<int> order = stackalloc int[4];
        rng.Permutation(order);
        double b = Brightness > 0 ? rng.Uniform(Math.Max(0, 1 - Brightness), 1 + Brightness) : 1;
        double c = Contrast > 0 ? rng.Uniform(Math.Max(0, 1 - Contrast), 1 + Contrast) : 1;
        double s = Saturation > 0 ? rng.Uniform(Math.Max(0, 1 - Saturation), 1 + Saturation) : 1;
        double h = Hue > 0 ? rng.Uniform(-Hue, Hue) : 0;
        foreach (int op in order)
        {
            switch (op)
            {
                case 0 when Brightness > 0: AdjustBrightness(img, (float)b); break;
                case 1 when Contrast > 0: AdjustContrast(img, (float)c); break;
                case 2 when Saturation > 0: AdjustSaturation(img, (float)s); break;
                case 3 when Hue > 0: AdjustHue(img, (float)h); break;
            }
        }
    }

    /// <summary>x ← clamp(f·x).</summary>
    public static void AdjustBrightness(SampleBuffer img, float factor)
    {
        var x = img.Pixels;
        TensorPrimitives.Multiply(x, factor, x);
        ColorMath.Clamp01(x);
    }

    /// <summary>x ← clamp(f·x + (1 − f)·mean(luma)).</summary>
    public static void AdjustContrast(SampleBuffer img, float factor)
    {
        float n = img.PlaneSize;
        float mean = (ColorMath.LumaR * TensorPrimitives.Sum<float>(img.Plane(0))
                    + ColorMath.LumaG * TensorPrimitives.Sum<float>(img.Plane(1))
                    + ColorMath.LumaB * TensorPrimitives.Sum<float>(img.Plane(2))) / n;
        ColorMath.Blend(img.Pixels, mean, factor);
    }

    /// <summary>x ← clamp(f·x + (1 − f)·luma(x)) per pixel.</summary>
    public static void AdjustSaturation(SampleBuffer img, float factor)
    {
        var scratch = img.ScratchOf(2 * img.PlaneSize);
        var gray = scratch[..img.PlaneSize];
        var tmp = scratch[img.PlaneSize..];
        ColorMath.Luma(img.Plane(0), img.Plane(1), img.Plane(2), gray);
        for (int ch = 0; ch < 3; ch++) ColorMath.Blend(img.Plane(ch), gray, factor, tmp);
    }

    /// <summary>Shifts the HSV hue by <paramref name="shift"/> turns (torchvision's <c>adjust_hue</c>).</summary>
    public static void AdjustHue(SampleBuffer img, float shift)
    {
        var r = img.Plane(0);
        var g = img.Plane(1);
        var b = img.Plane(2);
        for (int i = 0; i < r.Length; i++)
        {
            float rv = r[i], gv = g[i], bv = b[i];
            float max = MathF.Max(rv, MathF.Max(gv, bv));
            float min = MathF.Min(rv, MathF.Min(gv, bv));
            float chroma = max - min;
            if (chroma <= 0) continue; // gray pixels have no hue to turn
            float hue;
            if (max == rv) hue = (gv - bv) / chroma;
            else if (max == gv) hue = 2f + (bv - rv) / chroma;
            else hue = 4f + (rv - gv) / chroma;
            hue = hue / 6f + shift;
            hue -= MathF.Floor(hue);
            // HSV → RGB with v = max, s·v = chroma.
            float h6 = hue * 6f;
            int sector = (int)h6;
            if (sector >= 6) sector = 0;
            float f = h6 - sector;
            float p = min, q = max - chroma * f, t = min + chroma * f;
            switch (sector)
            {
                case 0: r[i] = max; g[i] = t; b[i] = p; break;
                case 1: r[i] = q; g[i] = max; b[i] = p; break;
                case 2: r[i] = p; g[i] = max; b[i] = t; break;
                case 3: r[i] = p; g[i] = q; b[i] = max; break;
                case 4: r[i] = t; g[i] = p; b[i] = max; break;
                default: r[i] = max; g[i] = p; b[i] = q; break;
            }
        }
    }

    public override string ToString() => $"ColorJitter({F(Brightness)},{F(Contrast)},{F(Saturation)},{F(Hue)})";
}
