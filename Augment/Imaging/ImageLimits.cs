namespace TransferKit.Augment.Imaging;

/// <summary>
/// Sizes beyond which a header is taken to be corrupt or hostile and refused before any pixel memory is allocated.
/// The default pixel budget, <see cref="DefaultMaxPixels"/> (100 MP, 300 MB as 8-bit RGB), stays under
/// <see cref="ImagingBackend.AllocationLimitMegabytes"/>, so a refused header is reported by this check with the file's
/// name rather than by the allocator.
/// </summary>
/// <param name="MaxSide">Largest width or height accepted.</param>
/// <param name="MaxPixels">Largest width × height accepted.</param>
/// <param name="MaxFileBytes">Largest file read into memory for decoding.</param>
public sealed record ImageLimits(int MaxSide = ImageLimits.DefaultMaxSide, long MaxPixels = ImageLimits.DefaultMaxPixels,
    long MaxFileBytes = ImageLimits.DefaultMaxFileBytes)
{
    /// <summary>Default side limit: the largest side JPEG and WebP can declare.</summary>
    public const int DefaultMaxSide = 65_535;

    /// <summary>Default pixel limit: 100 megapixels.</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>Default file-size limit: 256 MB, far beyond any photograph a classifier is trained on.</summary>
    public const long DefaultMaxFileBytes = 256L << 20;

    /// <summary>The limits the loader and tools use unless told otherwise.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Null when the dimensions are acceptable, else the reason they are not.</summary>
    public string? Check(long width, long height)
    {
        if (width <= 0 || height <= 0) return $"the header declares an empty size {width}×{height} (each side must be 1 to {MaxSide} pixels)";
        if (width > MaxSide || height > MaxSide)
            return $"the header declares {width}×{height} pixels, beyond the {MaxSide}-pixel side limit";
        if (width * height > MaxPixels)
            return $"the header declares {width}×{height} = {width * height:N0} pixels, beyond the {MaxPixels:N0}-pixel limit";
        return null;
    }
}
