using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// A decoded image ready for the single resampling pass: 8-bit RGB pixels (interleaved R, G, B, row-major, no row
/// padding) read straight from ImageSharp's contiguous pixel memory, plus the map from oriented full-resolution
/// coordinates to decoded pixel coordinates. The box-filtered mipmap levels the resampler needs for strong
/// downscaling are built on first use (under a lock) and kept. Reading is thread-safe; dispose it (it returns ImageSharp's pooled memory).
/// </summary>
public sealed class SourceImage : IDisposable
{
    readonly Image<Rgb24>? _image;
    readonly Memory<Rgb24> _memory;
    readonly byte[]? _raw;
    readonly List<byte[]> _levels = new();
    readonly List<(int W, int H)> _levelSizes = new();

    SourceImage(Image<Rgb24>? image, Memory<Rgb24> memory, byte[]? raw, int decodedWidth, int decodedHeight, int width, int height, Affine2D orientedToDecoded)
    {
        _image = image;
        _memory = memory;
        _raw = raw;
        DecodedWidth = decodedWidth;
        DecodedHeight = decodedHeight;
        Width = width;
        Height = height;
        OrientedToDecoded = orientedToDecoded;
        _levelSizes.Add((decodedWidth, decodedHeight));
    }

    /// <summary>Width as displayed, at full resolution (what geometric transforms see).</summary>
    public int Width { get; }

    /// <summary>Height as displayed, at full resolution.</summary>
    public int Height { get; }

    /// <summary>Width of the pixels actually decoded (before orientation).</summary>
    public int DecodedWidth { get; }

    /// <summary>Height of the pixels actually decoded.</summary>
    public int DecodedHeight { get; }

    /// <summary>Oriented full-resolution coordinates → decoded pixel coordinates.</summary>
    public Affine2D OrientedToDecoded { get; }

    /// <summary>The decoded RGB bytes (3 per pixel, <see cref="DecodedWidth"/> × 3 per row).</summary>
    public ReadOnlySpan<byte> Pixels => _raw ?? MemoryMarshal.AsBytes(_memory.Span);

    /// <summary>Wraps a decoded ImageSharp image (taking ownership) whose pixels are in one contiguous buffer.</summary>
    internal static SourceImage FromImage(Image<Rgb24> image, int width, int height, Affine2D orientedToDecoded, string path)
    {
        if (!image.DangerousTryGetSinglePixelMemory(out Memory<Rgb24> memory))
        {
            image.Dispose();
            throw new ImageDecodeException(path, $"the decoded {image.Width}×{image.Height} pixels are not in one buffer");
        }
        return new SourceImage(image, memory, null, image.Width, image.Height, width, height, orientedToDecoded);
    }

    /// <summary>
    /// Wraps raw 8-bit pixels (1 = gray, 3 = RGB, 4 = RGBA with alpha ignored), row-major, copied.
    /// </summary>
    public static SourceImage FromPixels(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        if (ImageLimits.Default.Check(width, height) is { } reason) throw new ArgumentException(reason);
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"Raw pixels must have 1, 3 or 4 channels, not {channels}.");
        if (pixels.Length < (long)width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes cannot hold {width}×{height}×{channels} pixels.");
        var rgb = new byte[3 * width * height];
        int n = width * height;
        switch (channels)
        {
            case 3: pixels[..(3 * n)].CopyTo(rgb); break;
            case 1:
                for (int i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
                break;
            default:
                for (int i = 0; i < n; i++) { rgb[3 * i] = pixels[4 * i]; rgb[3 * i + 1] = pixels[4 * i + 1]; rgb[3 * i + 2] = pixels[4 * i + 2]; }
                break;
        }
        return new SourceImage(null, default, rgb, width, height, width, height, Affine2D.Identity);
    }

    /// <summary>A copy whose pixels live in a managed array (no pooled ImageSharp memory held), for keeping across epochs.</summary>
    public SourceImage ToManaged() =>
        new(null, default, Pixels.ToArray(), DecodedWidth, DecodedHeight, Width, Height, OrientedToDecoded);

    /// <summary>Number of mipmap levels that exist for this image (level 0 is the decoded image; the last is 1 pixel on its short side or smaller).</summary>
    public int LevelCount
    {
        get
        {
            int count = 1;
            for (int w = DecodedWidth, h = DecodedHeight; w > 1 || h > 1; w = Math.Max(1, w >> 1), h = Math.Max(1, h >> 1)) count++;
            return count;
        }
    }

    /// <summary>
    /// Mipmap level <paramref name="level"/>: level 0 is the decoded pixels; level k+1 averages 2×2 blocks of level k
    /// (size halved, rounded down, at least 1; an odd last row or column is folded into the previous block). Built on
    /// first use.
    /// </summary>
    public ReadOnlySpan<byte> Level(int level, out int width, out int height)
    {
        if (level < 0 || level >= LevelCount) throw new ArgumentOutOfRangeException(nameof(level), level, $"Levels run 0..{LevelCount - 1}.");
        if (level == 0) { (width, height) = (DecodedWidth, DecodedHeight); return Pixels; }
        // Images kept by a DecodedImageCache are shared by the loader's workers: build levels under a lock.
        lock (_levels)
        {
            while (_levelSizes.Count <= level) BuildNextLevel();
            (width, height) = _levelSizes[level];
            return _levels[level - 1];
        }
    }

    void BuildNextLevel()
    {
        int k = _levelSizes.Count - 1;
        var (sw, sh) = _levelSizes[k];
        ReadOnlySpan<byte> src = k == 0 ? Pixels : _levels[k - 1];
        int dw = Math.Max(1, sw >> 1), dh = Math.Max(1, sh >> 1);
        var dst = new byte[3 * dw * dh];
        for (int y = 0; y < dh; y++)
        {
            // Source rows and columns of this output row: normally 2, 1 for a 1-high source, 3 at an odd bottom edge.
            int y0 = Math.Min(2 * y, sh - 1), y1 = y == dh - 1 ? sh : Math.Min(2 * y + 2, sh);
            for (int x = 0; x < dw; x++)
            {
                int x0 = Math.Min(2 * x, sw - 1), x1 = x == dw - 1 ? sw : Math.Min(2 * x + 2, sw);
                int r = 0, g = 0, b = 0, count = (x1 - x0) * (y1 - y0);
                for (int yy = y0; yy < y1; yy++)
                {
                    int row = 3 * yy * sw;
                    for (int xx = x0; xx < x1; xx++)
                    {
                        int p = row + 3 * xx;
                        r += src[p]; g += src[p + 1]; b += src[p + 2];
                    }
                }
                int o = 3 * (y * dw + x);
                dst[o] = (byte)((r + count / 2) / count);
                dst[o + 1] = (byte)((g + count / 2) / count);
                dst[o + 2] = (byte)((b + count / 2) / count);
            }
        }
        _levels.Add(dst);
        _levelSizes.Add((dw, dh));
    }

    /// <summary>Returns ImageSharp's pooled pixel memory (a no-op for images built from raw or kept pixels).</summary>
    public void Dispose() => _image?.Dispose();
}
