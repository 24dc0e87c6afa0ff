using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0)</c>: with probability p,
/// a rectangle of random area fraction and log-uniform aspect ratio is filled with a value, per-channel values,
/// or standard normal noise (<see cref="RandomValue"/>). Ten attempts; if none fits, nothing is erased.
/// Runs on the tensor, usually after Normalize.
/// </summary>
public sealed class RandomErasing : TensorTransform
{
    public const int Attempts = 10;

    public RandomErasing(double p = 0.5, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null,
        float[]? value = null, bool randomValue = false)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomErasing p must be in [0, 1].");
        Scale = scale ?? (0.02, 0.33);
        Ratio = ratio ?? (0.3, 3.3);
        if (Scale.Min < 0 || Scale.Max > 1 || Scale.Min > Scale.Max)
            throw new ArgumentException($"RandomErasing scale ({Scale.Min}, {Scale.Max}) must satisfy 0 ≤ min ≤ max ≤ 1.");
        if (Ratio.Min <= 0 || Ratio.Min > Ratio.Max)
            throw new ArgumentException($"RandomErasing ratio ({Ratio.Min}, {Ratio.Max}) must satisfy 0 < min ≤ max.");
        P = p;
        Value = value ?? [0f];
        RandomValue = randomValue;
    }

    public double P { get; }
    public (double Min, double Max) Scale { get; }
    public (double Min, double Max) Ratio { get; }

    /// <summary>One value for all channels or one per channel.</summary>
    public float[] Value { get; }

    /// <summary>Fill with standard normal noise instead of <see cref="Value"/>.</summary>
    public bool RandomValue { get; }

    /// <summary>The erased rectangle, or null when no attempt fits; draws like torchvision's get_params.</summary>
    public (int Top, int Left, int Height, int Width)? SampleBox(int width, int height, ref CounterRng rng)
    {
        double area = (double)width * height;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double target = area * rng.Uniform(Scale.Min, Scale.Max);
            double aspect = Math.Exp(rng.Uniform(logMin, logMax));
            int h = (int)Math.Round(Math.Sqrt(target * aspect), MidpointRounding.ToEven);
            int w = (int)Math.Round(Math.Sqrt(target / aspect), MidpointRounding.ToEven);
            if (!(h < height && w < width)) continue;
            int top = rng.NextInt(0, height - h + 1);
            int left = rng.NextInt(0, width - w + 1);
            return (top, left, h, w);
        }
        return null;
    }

    public override void Apply(SampleBuffer img, ref CounterRng rng)
    {
        if (!rng.Bernoulli(P)) return;
        if (SampleBox(img.Width, img.Height, ref rng) is not var (top, left, h, w)) return;
        if (!RandomValue && Value.Length != 1 && Value.Length != img.Channels)
            throw new InvalidOperationException($"RandomErasing has {Value.Length} values for a {img.Channels}-channel image.");
        for (int c = 0; c < img.Channels; c++)
        {
            var plane = img.Plane(c);
            float v = RandomValue ? 0 : Value[Value.Length == 1 ? 0 : c];
            for (int y = top; y < top + h; y++)
            {
                var row = plane.Slice(y * img.Width + left, w);
                if (RandomValue) for (int x = 0; x < w; x++) row[x] = (float)rng.NextGaussian();
                else row.Fill(v);
            }
        }
    }

    public override string ToString()
    {
        string value = RandomValue ? "random" : Value.Length == 1 ? F(Value[0]) : $"({string.Join(",", Value.Select(v => F(v)))})";
        return $"RandomErasing({F(P)},scale=({F(Scale.Min)},{F(Scale.Max)}),ratio=({F(Ratio.Min)},{F(Ratio.Max)}),value={value})";
    }
}
