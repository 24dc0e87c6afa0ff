using System.Numerics;
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

    /// <summary>
    /// Shifts the HSV hue by <paramref name="shift"/> turns (torchvision's <c>adjust_hue</c>); value and saturation
    /// are kept. Vectorized over <see cref="Vector{T}"/> lanes of one plane position at a time; the scalar tail
    /// (<see cref="HueScalar"/>) is the reference.
    /// </summary>
    public static void AdjustHue(SampleBuffer img, float shift)
    {
        var r = img.Plane(0);
        var g = img.Plane(1);
        var b = img.Plane(2);
        int n = r.Length, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int lanes = Vector<float>.Count;
            var zero = Vector<float>.Zero;
            var one = Vector<float>.One;
            var two = new Vector<float>(2f);
            var four = new Vector<float>(4f);
            var six = new Vector<float>(6f);
            var sixShift = new Vector<float>(6f * shift);
            for (; i <= n - lanes; i += lanes)
            {
                var vr = new Vector<float>(r[i..]);
                var vg = new Vector<float>(g[i..]);
                var vb = new Vector<float>(b[i..]);
                var max = Vector.Max(vr, Vector.Max(vg, vb));
                var min = Vector.Min(vr, Vector.Min(vg, vb));
                var chroma = max - min;
                // Gray pixels (chroma 0) come out unchanged whatever the hue, so a safe divisor suffices.
                var safe = Vector.ConditionalSelect(Vector.Equals(chroma, zero), one, chroma);
                // Hue in sextants [0, 6): the branch of the largest channel, first match wins (R, then G, then B).
                var h = Vector.ConditionalSelect(Vector.Equals(max, vr), (vg - vb) / safe,
                        Vector.ConditionalSelect(Vector.Equals(max, vg), two + (vb - vr) / safe, four + (vr - vg) / safe));
                h += sixShift;
                h -= six * Vector.Floor(h / six);
                // HSV → RGB: channel = max − chroma·clamp(min(k, 4 − k), 0, 1) with k = (n + h) mod 6, n = 5, 3, 1.
                Vector.Min(max - chroma * Channel(5f, h, six, four, zero, one), one).CopyTo(r[i..]);
                Vector.Min(max - chroma * Channel(3f, h, six, four, zero, one), one).CopyTo(g[i..]);
                Vector.Min(max - chroma * Channel(1f, h, six, four, zero, one), one).CopyTo(b[i..]);
            }
        }
        for (; i < n; i++) (r[i], g[i], b[i]) = HueScalar(r[i], g[i], b[i], shift);
    }

    static Vector<float> Channel(float offset, Vector<float> h, Vector<float> six, Vector<float> four, Vector<float> zero, Vector<float> one)
    {
        var k = new Vector<float>(offset) + h;
        k -= six * Vector.Floor(k / six);
        return Vector.Max(zero, Vector.Min(one, Vector.Min(k, four - k)));
    }

    /// <summary>The reference hue shift of one pixel (same formulas as the vector path).</summary>
    public static (float R, float G, float B) HueScalar(float r, float g, float b, float shift)
    {
        float max = MathF.Max(r, MathF.Max(g, b));
        float min = MathF.Min(r, MathF.Min(g, b));
        float chroma = max - min;
        float safe = chroma == 0 ? 1f : chroma;
        float h = max == r ? (g - b) / safe : max == g ? 2f + (b - r) / safe : 4f + (r - g) / safe;
        h += 6f * shift;
        h -= 6f * MathF.Floor(h / 6f);
        float C(float offset)
        {
            float k = offset + h;
            k -= 6f * MathF.Floor(k / 6f);
            return MathF.Max(0f, MathF.Min(1f, MathF.Min(k, 4f - k)));
        }
        return (MathF.Min(max - chroma * C(5f), 1f), MathF.Min(max - chroma * C(3f), 1f), MathF.Min(max - chroma * C(1f), 1f));
    }

    public override string ToString() => $"ColorJitter({F(Brightness)},{F(Contrast)},{F(Saturation)},{F(Hue)})";
}
