using SkiaSharp;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// An image file whose header has been read and checked but whose pixels are not decoded yet, so the
/// caller can plan its transforms and then decode at the smallest scale that keeps the needed detail.
/// JPEG, PNG, GIF (first frame), BMP and WebP are supported; grayscale, palette, alpha and CMYK
/// all come out as RGB. Dispose it.
/// </summary>
public sealed class EncodedImage : IDisposable
{
    readonly SKData _data;
    readonly SKCodec _codec;
    readonly int _rawWidth, _rawHeight;

    EncodedImage(string path, SKData data, SKCodec codec, ImageHeader header)
    {
        Path = path;
        _data = data;
        _codec = codec;
        Header = header;
        _rawWidth = codec.Info.Width;
        _rawHeight = codec.Info.Height;
    }

    /// <summary>The file this came from.</summary>
    public string Path { get; }

    /// <summary>Displayed size, format and orientation.</summary>
    public ImageHeader Header { get; }

    /// <summary>
    /// Opens a file and reads only its header. Throws <see cref="ImageDecodeException"/> naming the file
    /// for an empty, unrecognised or implausibly large image; no pixel memory is allocated here.
    /// </summary>
    public static EncodedImage Open(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        FileInfo info;
        try { info = new FileInfo(path); }
        catch (Exception e) { throw new ImageDecodeException(path, e.Message); }
        if (!info.Exists) throw new ImageDecodeException(path, "the file does not exist");
        if (info.Length == 0) throw new ImageDecodeException(path, "the file is empty (0 bytes)");
        var data = SKData.Create(path);
        if (data is null) throw new ImageDecodeException(path, "the file could not be opened for reading");
        return FromData(path, data, limits);
    }

    /// <summary>Like <see cref="Open"/> for bytes already in memory; <paramref name="name"/> labels errors.</summary>
    public static EncodedImage FromBytes(ReadOnlySpan<byte> bytes, string name, ImageLimits? limits = null)
    {
        if (bytes.Length == 0) throw new ImageDecodeException(name, "the data is empty (0 bytes)");
        return FromData(name, SKData.CreateCopy(bytes), limits ?? ImageLimits.Default);
    }

    static EncodedImage FromData(string path, SKData data, ImageLimits limits)
    {
        if (HeaderSniffer.TryReadSize(data.AsSpan()) is var (sw, sh)
            && limits.Check((int)Math.Min(sw, int.MaxValue), (int)Math.Min(sh, int.MaxValue)) is { } sniffed)
        {
            data.Dispose();
            throw new ImageDecodeException(path, sniffed + "; refused before decoding");
        }
        // The codec takes ownership of the stream; the stream only borrows the data.
        var codec = SKCodec.Create(new SKMemoryStream(data), out var result);
        if (codec is null)
        {
            data.Dispose();
            throw new ImageDecodeException(path, result switch
            {
                SKCodecResult.Unimplemented => "not a recognised image format (JPEG, PNG, GIF, BMP or WebP expected)",
                SKCodecResult.IncompleteInput => "the header is truncated",
                SKCodecResult.InvalidInput or SKCodecResult.ErrorInInput => "the header is corrupt",
                _ => $"not a readable image ({result})",
            });
        }
        var raw = codec.Info;
        if (limits.Check(raw.Width, raw.Height) is { } reason)
        {
            codec.Dispose();
            data.Dispose();
            throw new ImageDecodeException(path, reason + "; refused before decoding");
        }
        int orientation = (int)codec.EncodedOrigin;
        if (orientation < 1 || orientation > 8) orientation = 1;
        bool swap = orientation >= 5;
        var header = new ImageHeader(swap ? raw.Height : raw.Width, swap ? raw.Width : raw.Height,
            codec.EncodedFormat.ToString(), orientation);
        return new EncodedImage(path, data, codec, header);
    }

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

    /// <summary>Margin in decoded pixels kept around a decoded region, covering the bilinear footprint.</summary>
    public const int RegionMargin = 3;

    /// <summary>
    /// Decodes the pixels. When <paramref name="sourcePixelsPerOutputPixel"/> is above 1 (the output is a
    /// downscale of the source), decoders that support it (JPEG, WebP) decode at the smallest reduced scale that
    /// still has at least one decoded pixel per output pixel. The choice depends only on the argument, so
    /// results stay deterministic. Throws <see cref="ImageDecodeException"/> for corrupt or truncated data.
    /// </summary>
    public SourceImage Decode(double sourcePixelsPerOutputPixel = 1) => DecodeRegion(sourcePixelsPerOutputPixel, null);

    /// <summary>
    /// Decodes what a planned <paramref name="geometry"/> needs: at a reduced scale when it downsamples, and for
    /// JPEG only the rows and columns its output maps into (plus <see cref="RegionMargin"/>), which skips most of the
    /// work for small random crops. Pixels outside the region are never sampled, so the rendered result matches a
    /// full decode up to JPEG's block-edge rounding.
    /// </summary>
    public SourceImage Decode(in Geometry geometry)
    {
        // Bounding box of the output rectangle in stored (raw) full-resolution coordinates.
        var toRaw = OrientationMap(Header.Orientation, _rawWidth, _rawHeight) * geometry.OutputToSource;
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        foreach (var (cx, cy) in new[] { (0.0, 0.0), (geometry.Width, 0.0), (0.0, geometry.Height), (geometry.Width, geometry.Height) })
        {
            var (x, y) = toRaw.Apply(cx, cy);
            x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
        }
        return DecodeRegion(geometry.OutputToSource.MinStretch(), (x0, y0, x1, y1));
    }

    SourceImage DecodeRegion(double sourcePixelsPerOutputPixel, (double X0, double Y0, double X1, double Y1)? rawRegion)
    {
        int dw = _rawWidth, dh = _rawHeight;
        if (sourcePixelsPerOutputPixel > 1 && Header.Format is "Jpeg" or "Webp")
        {
            for (int k = 1; k < 8; k++)
            {
                var size = _codec.GetScaledDimensions(k / 8f);
                if (size.Width <= 0 || size.Height <= 0) continue;
                double sx = (double)size.Width / _rawWidth, sy = (double)size.Height / _rawHeight;
                if (Math.Min(sx, sy) * sourcePixelsPerOutputPixel >= 1.0)
                {
                    dw = size.Width; dh = size.Height;
                    break;
                }
            }
        }
        double scaleX = (double)dw / _rawWidth, scaleY = (double)dh / _rawHeight;
        // The region in decoded pixels; only JPEG decodes top-down with column cropping.
        int left = 0, top = 0, right = dw, bottom = dh;
        if (rawRegion is var (rx0, ry0, rx1, ry1) && Header.Format == "Jpeg" && _codec.ScanlineOrder == SKCodecScanlineOrder.TopDown)
        {
            // Mipmapped sampling reads a footprint as wide as the remaining downscale; widen the margin to match.
            int margin = RegionMargin + (int)Math.Ceiling(sourcePixelsPerOutputPixel * Math.Max(scaleX, scaleY));
            left = Math.Clamp((int)Math.Floor(rx0 * scaleX) - margin, 0, dw);
            right = Math.Clamp((int)Math.Ceiling(rx1 * scaleX) + margin, 0, dw);
            top = Math.Clamp((int)Math.Floor(ry0 * scaleY) - margin, 0, dh);
            bottom = Math.Clamp((int)Math.Ceiling(ry1 * scaleY) + margin, 0, dh);
            if (right <= left || bottom <= top) { left = 0; top = 0; right = Math.Min(dw, 1); bottom = Math.Min(dh, 1); }
        }
        int w = right - left, h = bottom - top;
        var full = new SKImageInfo(dw, dh, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap();
        if (!bitmap.TryAllocPixels(info))
        {
            bitmap.Dispose();
            throw new ImageDecodeException(Path, $"could not allocate {w}×{h} pixels");
        }
        SKCodecResult result;
        if (w == dw && h == dh)
            result = _codec.GetPixels(info, bitmap.GetPixels());
        else
        {
            result = _codec.StartScanlineDecode(full, new SKCodecOptions(new SKRectI(left, 0, right, dh)));
            if (result == SKCodecResult.Success)
            {
                if (top > 0 && !_codec.SkipScanlines(top)) result = SKCodecResult.IncompleteInput;
                else if (_codec.GetScanlines(bitmap.GetPixels(), h, bitmap.RowBytes) != h) result = SKCodecResult.IncompleteInput;
            }
        }
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new ImageDecodeException(Path, result switch
            {
                SKCodecResult.IncompleteInput => "the image data is truncated",
                SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => "the image data is corrupt",
                SKCodecResult.InvalidScale => $"cannot decode at {dw}×{dh}",
                _ => $"decoding failed ({result})",
            });
        }
        // Alpha is dropped (as Pillow's convert("RGB") does): view the unpremultiplied pixels as opaque.
        var opaque = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var image = SKImage.FromPixels(opaque, bitmap.GetPixels(), bitmap.RowBytes);
        var orientedToRaw = OrientationMap(Header.Orientation, _rawWidth, _rawHeight);
        var rawToDecoded = Affine2D.Translation(-left, -top) * Affine2D.Scale(scaleX, scaleY);
        return new SourceImage(image, bitmap, Header.Width, Header.Height, rawToDecoded * orientedToRaw);
    }

    public void Dispose()
    {
        _codec.Dispose();
        _data.Dispose();
    }
}
