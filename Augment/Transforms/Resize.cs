using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>Resize</c>: with one size the shorter side becomes <c>size</c> and the longer keeps the aspect
/// ratio (truncated, as torchvision does); with two it is resized to exactly height × width.
/// </summary>
public sealed class Resize : GeometricTransform
{
    /// <summary>Resize so the shorter side is <paramref name="size"/>.</summary>
    public Resize(int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "Resize size must be positive.");
        ShorterSide = size;
    }

    /// <summary>Resize to exactly <paramref name="height"/> × <paramref name="width"/>.</summary>
    public Resize(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"Resize size ({height}, {width}) must be positive.");
        Height = height;
        Width = width;
    }

    /// <summary>Target shorter side, or null for an exact size.</summary>
    public int? ShorterSide { get; }
    public int? Height { get; }
    public int? Width { get; }

    public override (int Width, int Height)? FixedOutputSize => ShorterSide is null ? (Width!.Value, Height!.Value) : null;

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        var (w, h) = OutputSize(g.Width, g.Height);
        g.Push(Affine2D.Scale((double)g.Width / w, (double)g.Height / h), w, h);
    }

    /// <summary>The output size for an input size.</summary>
    public (int Width, int Height) OutputSize(int width, int height)
    {
        if (ShorterSide is not int s) return (Width!.Value, Height!.Value);
        if (width <= height) return (s, Math.Max(1, (int)((long)s * height / width)));
        return (Math.Max(1, (int)((long)s * width / height)), s);
    }

    public override string ToString() => ShorterSide is int s ? $"Resize({s})" : $"Resize(({Height},{Width}))";
}
