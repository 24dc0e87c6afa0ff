namespace TransferKit.Augment.Imaging;

/// <summary>
/// Sizes beyond which a header is taken to be corrupt or hostile and refused before any pixel memory is
/// allocated. The default pixel budget is twice Pillow's decompression-bomb warning level (≈179 MP, 716 MB RGBA).
/// </summary>
public sealed record ImageLimits(int MaxSide = 65_535, long MaxPixels = 178_956_970)
{
    public static ImageLimits Default { get; } = new();

    /// <summary>Null when the dimensions are acceptable, else the reason they are not.</summary>
    public string? Check(int width, int height)
    {
        if (width <= 0 || height <= 0) return $"the header declares an empty size {width}×{height}";
        if (width > MaxSide || height > MaxSide)
            return $"the header declares {width}×{height} pixels, beyond the {MaxSide}-pixel side limit";
        if ((long)width * height > MaxPixels)
            return $"the header declares {width}×{height} = {(long)width * height:N0} pixels, beyond the {MaxPixels:N0}-pixel limit";
        return null;
    }
}
