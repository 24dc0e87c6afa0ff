using SkiaSharp;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// A decoded image ready for the single resampling pass: 8-bit RGB(A) pixels, possibly decoded at a
/// reduced scale, plus the map from oriented full-resolution coordinates to decoded pixel coordinates.
/// Owns native memory; dispose it.
/// </summary>
public sealed class SourceImage : IDisposable
{
    readonly SKBitmap? _bitmap;

    internal SourceImage(SKImage image, SKBitmap? bitmap, int width, int height, Affine2D orientedToDecoded)
    {
        Image = image;
        _bitmap = bitmap;
        Width = width;
        Height = height;
        OrientedToDecoded = orientedToDecoded;
    }

    internal SKImage Image { get; }

    /// <summary>Width as displayed, at full resolution (what geometric transforms see).</summary>
    public int Width { get; }

    /// <summary>Height as displayed, at full resolution.</summary>
    public int Height { get; }

    /// <summary>Width of the pixels actually decoded (smaller for a reduced decode scale or a decoded region).</summary>
    public int DecodedWidth => Image.Width;

    /// <summary>Height of the pixels actually decoded.</summary>
    public int DecodedHeight => Image.Height;

    /// <summary>Oriented full-resolution coordinates → decoded pixel coordinates.</summary>
    public Affine2D OrientedToDecoded { get; }

    /// <summary>
    /// Wraps raw 8-bit pixels (1 = gray, 3 = RGB, 4 = RGBA with alpha ignored), row-major, copied.
    /// </summary>
    public static SourceImage FromPixels(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (ImageLimits.Default.Check(width, height) is { } reason) throw new ArgumentException(reason);
        if (pixels.Length < (long)width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes cannot hold {width}×{height}×{channels} pixels.");
        SKImage image;
        switch (channels)
        {
            case 1:
                image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), pixels, width);
                break;
            case 3:
            {
                var rgba = new byte[width * height * 4];
                for (int i = 0, j = 0; i < width * height; i++, j += 3)
                {
                    rgba[4 * i] = pixels[j]; rgba[4 * i + 1] = pixels[j + 1]; rgba[4 * i + 2] = pixels[j + 2]; rgba[4 * i + 3] = 255;
                }
                image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba, width * 4);
                break;
            }
            case 4:
                image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), pixels, width * 4);
                break;
            default:
                throw new ArgumentException($"Raw pixels must have 1, 3 or 4 channels, not {channels}.");
        }
        return new SourceImage(image, null, width, height, Affine2D.Identity);
    }

    public void Dispose()
    {
        Image.Dispose();
        _bitmap?.Dispose();
    }
}
