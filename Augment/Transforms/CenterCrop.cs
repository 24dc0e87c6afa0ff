using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>torchvision <c>CenterCrop</c>: the central height × width region, padded with 0 when the image is smaller.</summary>
public sealed class CenterCrop : GeometricTransform
{
    public CenterCrop(int size) : this(size, size) { }

    public CenterCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"CenterCrop size ({height}, {width}) must be positive.");
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }

    public override (int Width, int Height)? FixedOutputSize => (Width, Height);

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        // torchvision: int(round((image - crop) / 2)), Python rounding (half to even).
        double top = Math.Round((g.Height - Height) / 2.0, MidpointRounding.ToEven);
        double left = Math.Round((g.Width - Width) / 2.0, MidpointRounding.ToEven);
        g.Push(Affine2D.Translation(left, top), Width, Height);
    }

    public override string ToString() => Height == Width ? $"CenterCrop({Height})" : $"CenterCrop(({Height},{Width}))";
}
