using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3))</c>: a crop of random area
/// fraction and log-uniform aspect ratio, resized to size. Ten attempts, then the torchvision fallback: the
/// whole image clamped to the ratio range, centred.
/// </summary>
public sealed class RandomResizedCrop : GeometricTransform
{
    public const int Attempts = 10;

    public RandomResizedCrop(int size, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null)
        : this(size, size, scale, ratio) { }

    public RandomResizedCrop(int height, int width, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"RandomResizedCrop size ({height}, {width}) must be positive.");
        Scale = scale ?? (0.08, 1.0);
        Ratio = ratio ?? (3.0 / 4.0, 4.0 / 3.0);
        if (Scale.Min <= 0 || Scale.Min > Scale.Max)
            throw new ArgumentException($"RandomResizedCrop scale ({Scale.Min}, {Scale.Max}) must satisfy 0 < min ≤ max.");
        if (Ratio.Min <= 0 || Ratio.Min > Ratio.Max)
            throw new ArgumentException($"RandomResizedCrop ratio ({Ratio.Min}, {Ratio.Max}) must satisfy 0 < min ≤ max.");
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }
    public (double Min, double Max) Scale { get; }
    public (double Min, double Max) Ratio { get; }

    public override (int Width, int Height)? FixedOutputSize => (Width, Height);

    /// <summary>The crop (top, left, height, width) for an image, drawn like torchvision's get_params.</summary>
    public (int Top, int Left, int Height, int Width) SampleCrop(int width, int height, ref CounterRng rng)
    {
        double area = (double)width * height;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double target = area * rng.Uniform(Scale.Min, Scale.Max);
            double aspect = Math.Exp(rng.Uniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(target * aspect), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(target / aspect), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = rng.NextInt(0, height - h + 1);
                int left = rng.NextInt(0, width - w + 1);
                return (top, left, h, w);
            }
        }
        // Fallback: central crop with the aspect ratio clamped into range.
        double inRatio = (double)width / height;
        int cw, ch;
        if (inRatio < Ratio.Min) { cw = width; ch = (int)Math.Round(cw / Ratio.Min, MidpointRounding.ToEven); }
        else if (inRatio > Ratio.Max) { ch = height; cw = (int)Math.Round(ch * Ratio.Max, MidpointRounding.ToEven); }
        else { cw = width; ch = height; }
        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        var (top, left, h, w) = SampleCrop(g.Width, g.Height, ref rng);
        g.Push(Affine2D.Translation(left, top) * Affine2D.Scale((double)w / Width, (double)h / Height), Width, Height);
    }

    public override string ToString() =>
        $"RandomResizedCrop({(Height == Width ? $"{Height}" : $"({Height},{Width})")},scale=({F(Scale.Min)},{F(Scale.Max)}),ratio=({F(Ratio.Min)},{F(Ratio.Max)}))";
}
