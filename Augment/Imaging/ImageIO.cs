using SkiaSharp;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Imaging;

/// <summary>Whole-image reading and writing for tools and tests (training goes through the loader).</summary>
public static class ImageIO
{
    /// <summary>Decodes a file at full resolution, orientation applied, into planar RGB floats in [0, 1].</summary>
    public static SampleBuffer Load(string path, ImageLimits? limits = null)
    {
        using var encoded = EncodedImage.Open(path, limits);
        using var image = encoded.Decode();
        using var resampler = new Resampler();
        var buffer = new SampleBuffer();
        buffer.Reset(3, image.Height, image.Width);
        resampler.Render(image, Affine2D.Identity, image.Width, image.Height, buffer.Pixels);
        return buffer;
    }

    /// <summary>Reads only the header (size after orientation, format).</summary>
    public static ImageHeader ReadHeader(string path, ImageLimits? limits = null)
    {
        using var encoded = EncodedImage.Open(path, limits);
        return encoded.Header;
    }

    /// <summary>Encodes planar floats in [0, 1] (1 or 3 channels; clamped, rounded) as PNG bytes.</summary>
    public static byte[] EncodePng(ReadOnlySpan<float> chw, int channels, int height, int width) =>
        Encode(chw, channels, height, width, SKEncodedImageFormat.Png, 100);

    /// <summary>Encodes planar floats in [0, 1] as JPEG bytes.</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<float> chw, int channels, int height, int width, int quality = 90) =>
        Encode(chw, channels, height, width, SKEncodedImageFormat.Jpeg, quality);

    /// <summary>Encodes planar floats in [0, 1] as lossless or lossy WebP bytes.</summary>
    public static byte[] EncodeWebp(ReadOnlySpan<float> chw, int channels, int height, int width, int quality = 100) =>
        Encode(chw, channels, height, width, SKEncodedImageFormat.Webp, quality);

    /// <summary>Writes a PNG atomically (temporary file, then rename over the target).</summary>
    public static void SavePng(ReadOnlySpan<float> chw, int channels, int height, int width, string path) =>
        WriteAtomically(path, EncodePng(chw, channels, height, width));

    /// <summary>Writes bytes to a temporary file beside <paramref name="path"/>, then moves it over the target.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, full, overwrite: true);
    }

    internal static unsafe SKBitmap ToBitmap(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"Can only draw 1 or 3 channels, not {channels}.");
        if (chw.Length < channels * height * width) throw new ArgumentException("Too few values for the given shape.");
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        byte* p = (byte*)bitmap.GetPixels();
        int plane = width * height;
        for (int y = 0; y < height; y++)
        {
            byte* row = p + (long)y * bitmap.RowBytes;
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                for (int c = 0; c < 3; c++)
                {
                    float v = chw[(channels == 1 ? 0 : c) * plane + i];
                    row[4 * x + c] = (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);
                }
                row[4 * x + 3] = 255;
            }
        }
        return bitmap;
    }

    static byte[] Encode(ReadOnlySpan<float> chw, int channels, int height, int width, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = ToBitmap(chw, channels, height, width);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        return data.ToArray();
    }
}
