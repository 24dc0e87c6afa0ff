using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// An image file whose header has been identified and checked but whose pixels are not decoded yet, so the caller can
/// plan its transforms first. JPEG, PNG, GIF (first frame), BMP, WebP and TGA are read with ImageSharp
/// (<see cref="ImagingBackend.Configuration"/>); grayscale, palette, 16-bit, CMYK/YCCK and alpha all come out as 8-bit
/// RGB (alpha dropped, as Pillow's <c>convert("RGB")</c> does). The order of checks is: file exists and is not empty →
/// declared size sniffed from the header bytes (PNG, GIF, BMP, JPEG; see <see cref="HeaderSniffer"/>) → format from the signature → <c>Image.Identify</c> (size,
/// EXIF orientation) → <see cref="ImageLimits"/> → for JPEG, PNG and WebP a walk over the container structure
/// (<see cref="ContainerCheck"/>) that refuses truncated data (ImageSharp would otherwise fill a truncated scan with
/// grey) and headers declaring more pixels than the data can code → only then the pixel decode.
/// </summary>
public sealed class EncodedImage : IDisposable
{
    readonly byte[] _data;
    readonly IImageFormat _format;
    readonly int _rawWidth, _rawHeight;

    EncodedImage(string path, byte[] data, IImageFormat format, int rawWidth, int rawHeight, ImageHeader header)
    {
        Path = path;
        _data = data;
        _format = format;
        _rawWidth = rawWidth;
        _rawHeight = rawHeight;
        Header = header;
    }

    /// <summary>The file this came from.</summary>
    public string Path { get; }

    /// <summary>Displayed size, format and orientation.</summary>
    public ImageHeader Header { get; }

    /// <summary>
    /// Opens a file and reads only its header. Throws <see cref="ImageDecodeException"/> naming the file for a missing,
    /// empty, unrecognised, truncated or implausibly large image; no pixel memory is allocated here.
    /// </summary>
    public static EncodedImage Open(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        byte[] data;
        try
        {
            if (Directory.Exists(path)) throw new ImageDecodeException(path, "it is a directory, not an image file");
            var info = new FileInfo(path);
            if (!info.Exists) throw new ImageDecodeException(path, "the file does not exist");
            if (info.Length == 0) throw new ImageDecodeException(path, "the file is empty (0 bytes)");
            if (info.Length > limits.MaxFileBytes)
                throw new ImageDecodeException(path, $"the file has {info.Length:N0} bytes, beyond the {limits.MaxFileBytes:N0}-byte limit");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"the file could not be read ({e.Message})");
        }
        if (data.Length == 0) throw new ImageDecodeException(path, "the file is empty (0 bytes)");
        return FromData(path, data, limits);
    }

    /// <summary>Like <see cref="Open"/> for bytes already in memory; <paramref name="name"/> labels errors.</summary>
    public static EncodedImage FromBytes(ReadOnlySpan<byte> bytes, string name, ImageLimits? limits = null)
    {
        if (bytes.Length == 0) throw new ImageDecodeException(name, "the data is empty (0 bytes)");
        return FromData(name, bytes.ToArray(), limits ?? ImageLimits.Default);
    }

    static EncodedImage FromData(string path, byte[] data, ImageLimits limits)
    {
        if (HeaderSniffer.TryReadSize(data) is var (sw, sh)
            && limits.Check(sw, sh) is { } sniffed)
            throw new ImageDecodeException(path, sniffed + "; refused before decoding");
        // The format from the signature, then ImageSharp's header parse and the size limits, then the container walk.
        // A header parse that fails is explained by the walk when the file is merely cut short.
        var format = Image.DetectFormat(ImagingBackend.Configuration, data);
        if (format is null)
            throw new ImageDecodeException(path, "not a recognised image format (JPEG, PNG, GIF, BMP, WebP or TGA expected)");
        IImageInfo? info;
        try { info = Image.Identify(ImagingBackend.Configuration, data, out _); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageDecodeException(path, ContainerCheck.Truncation(format, data) ?? Describe(e, "the header"));
        }
        if (info is null)
            throw new ImageDecodeException(path, ContainerCheck.Truncation(format, data) ?? $"the {FormatName(format)} header could not be read");
        if (limits.Check(info.Width, info.Height) is { } reason)
            throw new ImageDecodeException(path, reason + "; refused before decoding");
        if (ContainerCheck.Truncation(format, data) is { } broken) throw new ImageDecodeException(path, broken + "; refused before decoding");
        int orientation = 1;
        try
        {
            if (info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation) is { } tag) orientation = tag.Value;
        }
        catch (Exception e) when (e is not OutOfMemoryException) { orientation = 1; } // an unreadable EXIF block is ignored, as Pillow does
        if (orientation < 1 || orientation > 8) orientation = 1;
        bool swap = orientation >= 5;
        var header = new ImageHeader(swap ? info.Height : info.Width, swap ? info.Width : info.Height, FormatName(format), orientation);
        return new EncodedImage(path, data, format, info.Width, info.Height, header);
    }

    /// <summary>The names <see cref="ImageHeader.Format"/> uses.</summary>
    static string FormatName(IImageFormat format) => format switch
    {
        JpegFormat => "Jpeg",
        PngFormat => "Png",
        GifFormat => "Gif",
        BmpFormat => "Bmp",
        WebpFormat => "Webp",
        TgaFormat => "Tga",
        _ => format.Name,
    };

    /// <summary>A reason for an ImageSharp failure; <paramref name="part"/> is "the header" or "the image data".</summary>
    internal static string Describe(Exception e, string part) => e switch
    {
        InvalidMemoryOperationException => $"decoding needs a buffer beyond the {ImagingBackend.AllocationLimitMegabytes} MB allocation limit ({e.Message})",
        UnknownImageFormatException => "not a recognised image format (JPEG, PNG, GIF, BMP, WebP or TGA expected)",
        InvalidImageContentException or ImageFormatException => $"{part} is corrupt ({e.Message})",
        NotSupportedException => $"{part} uses an unsupported feature ({e.Message})",
        EndOfStreamException => $"{part} is truncated",
        _ => $"{part} is corrupt ({e.GetType().Name}: {e.Message})",
    };

    /// <summary>
    /// Maps displayed (oriented) coordinates to stored coordinates for an EXIF orientation,
    /// where the stored image is <paramref name="w"/>×<paramref name="h"/>.
    /// </summary>
    public static Affine2D OrientationMap(int orientation, int w, int h) => orientation switch
    {
        2 => new Affine2D(-1, 0, 0, 1, w, 0),   // mirrored horizontally
        3 => new Affine2D(-1, 0, 0, -1, w, h),  // rotated 180°
        4 => new Affine2D(1, 0, 0, -1, 0, h),   // mirrored vertically
        5 => new Affine2D(0, 1, 1, 0, 0, 0),    // transposed
        6 => new Affine2D(0, 1, -1, 0, 0, h),   // shown after a 90° clockwise turn
        7 => new Affine2D(0, -1, -1, 0, w, h),  // transverse
        8 => new Affine2D(0, -1, 1, 0, w, 0),   // shown after a 90° counter-clockwise turn
        _ => Affine2D.Identity,
    };

    /// <summary>
    /// Decodes the pixels at full resolution into 8-bit RGB (the resampler's mipmaps do any downscaling). Orientation
    /// is not applied to the pixels; <see cref="SourceImage.OrientedToDecoded"/> carries it into the one resampling
    /// pass. Throws <see cref="ImageDecodeException"/> for corrupt data or data that needs too much memory.
    /// </summary>
    public SourceImage Decode()
    {
        Image<Rgb24> image;
        try
        {
            var decoder = ImagingBackend.Configuration.ImageFormatsManager.FindDecoder(_format);
            image = Image.Load<Rgb24>(ImagingBackend.Configuration, _data, decoder);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageDecodeException(Path, Describe(e, "the image data"));
        }
        if (image.Width != _rawWidth || image.Height != _rawHeight)
        {
            var (w, h) = (image.Width, image.Height);
            image.Dispose();
            throw new ImageDecodeException(Path, $"the header declares {_rawWidth}×{_rawHeight} pixels but {w}×{h} were decoded");
        }
        return SourceImage.FromImage(image, Header.Width, Header.Height, OrientationMap(Header.Orientation, _rawWidth, _rawHeight), Path);
    }

    /// <summary>
    /// Decodes what a planned <paramref name="geometry"/> needs. ImageSharp 2.1 has no reduced-scale or region JPEG
    /// decode, so this is the full image; the geometry is accepted so callers stay independent of that.
    /// </summary>
    public SourceImage Decode(in Geometry geometry) => Decode();

    /// <summary>Nothing to release (the encoded bytes are managed); kept so callers can scope an open image.</summary>
    public void Dispose() { }
}
