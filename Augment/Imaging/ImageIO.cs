using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
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
        var buffer = new SampleBuffer();
        buffer.Reset(3, image.Height, image.Width);
        new Resampler().Render(image, Affine2D.Identity, image.Width, image.Height, buffer.Pixels);
        return buffer;
    }

    /// <summary>Reads only the header (size after orientation, format).</summary>
    public static ImageHeader ReadHeader(string path, ImageLimits? limits = null)
    {
        using var encoded = EncodedImage.Open(path, limits);
        return encoded.Header;
    }

    /// <summary>Encodes planar floats in [0, 1] (1 or 3 channels; clamped, rounded) as 8-bit RGB PNG bytes.</summary>
    public static byte[] EncodePng(ReadOnlySpan<float> chw, int channels, int height, int width) =>
        Encode(chw, channels, height, width, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 });

    /// <summary>Encodes planar floats in [0, 1] as baseline JPEG bytes (4:2:0 chroma).</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<float> chw, int channels, int height, int width, int quality = 90) =>
        Encode(chw, channels, height, width, new JpegEncoder { Quality = quality, ColorType = JpegColorType.YCbCrRatio420 });

    /// <summary>Encodes planar floats in [0, 1] as WebP bytes: lossless at quality 100, lossy below.</summary>
    public static byte[] EncodeWebp(ReadOnlySpan<float> chw, int channels, int height, int width, int quality = 100) =>
        Encode(chw, channels, height, width, new WebpEncoder
        {
            FileFormat = quality >= 100 ? WebpFileFormatType.Lossless : WebpFileFormatType.Lossy,
            Quality = Math.Clamp(quality, 1, 100),
        });

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

    /// <summary>Planar floats in [0, 1] (1 channel is repeated as gray) → an ImageSharp RGB image; dispose it.</summary>
    internal static Image<Rgb24> ToImage(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"Can only draw 1 or 3 channels, not {channels}.");
        if (chw.Length < channels * height * width) throw new ArgumentException("Too few values for the given shape.");
        var image = new Image<Rgb24>(ImagingBackend.Configuration, width, height);
        int plane = width * height;
        for (int y = 0; y < height; y++)
        {
            var row = image.DangerousGetPixelRowMemory(y).Span;
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                row[x] = new Rgb24(Byte(chw[i]), Byte(chw[(channels == 1 ? 0 : 1) * plane + i]), Byte(chw[(channels == 1 ? 0 : 2) * plane + i]));
            }
        }
        return image;
    }

    static byte Byte(float v) => (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);

    /// <summary>Encodes an image with <paramref name="encoder"/> into bytes.</summary>
    internal static byte[] Encode(Image image, IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    static byte[] Encode(ReadOnlySpan<float> chw, int channels, int height, int width, IImageEncoder encoder)
    {
        using var image = ToImage(chw, channels, height, width);
        return Encode(image, encoder);
    }
}
