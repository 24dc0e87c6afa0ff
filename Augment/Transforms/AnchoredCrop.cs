using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>Where <see cref="AnchoredCrop"/> takes its region: the centre or one of the four corners (torchvision's <c>FiveCrop</c> order).</summary>
public enum CropAnchor { TopLeft, TopRight, BottomLeft, BottomRight, Center }

/// <summary>
/// One of torchvision's <c>FiveCrop</c> regions as a single deterministic crop: height × width at a corner or the
/// centre (the centre as <see cref="CenterCrop"/> rounds it), padded with 0 when the image is smaller.
/// </summary>
public sealed class AnchoredCrop : GeometricTransform
{
    public AnchoredCrop(int size, CropAnchor anchor) : this(size, size, anchor) { }

    public AnchoredCrop(int height, int width, CropAnchor anchor)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"AnchoredCrop size ({height}, {width}) must be positive.");
        Height = height; Width = width; Anchor = anchor;
    }

    public int Height { get; }
    public int Width { get; }
    public CropAnchor Anchor { get; }

    public override (int Width, int Height)? FixedOutputSize => (Width, Height);

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        double top = Anchor switch
        {
            CropAnchor.TopLeft or CropAnchor.TopRight => 0,
            CropAnchor.BottomLeft or CropAnchor.BottomRight => g.Height - Height,
            _ => Math.Round((g.Height - Height) / 2.0, MidpointRounding.ToEven),
        };
        double left = Anchor switch
        {
            CropAnchor.TopLeft or CropAnchor.BottomLeft => 0,
            CropAnchor.TopRight or CropAnchor.BottomRight => g.Width - Width,
            _ => Math.Round((g.Width - Width) / 2.0, MidpointRounding.ToEven),
        };
        g.Push(Affine2D.Translation(left, top), Width, Height);
    }

    public override string ToString() => $"AnchoredCrop({(Height == Width ? $"{Height}" : $"({Height},{Width})")}, {Anchor})";
}
