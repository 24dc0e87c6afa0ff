using TransferKit.Augment.Imaging;
using TransferKit.Tests.Common;

namespace TransferKit.Augment.Tests;

public class DecodeTests
{
    /// <summary>Max per-channel difference (0..1) allowed after a lossless PNG round trip of 8-bit values.</summary>
    const float PngRoundTripTolerance = 0.5f / 255f + 1e-6f;

    /// <summary>
    /// Mean absolute difference allowed after a JPEG round trip at quality 95; the pattern's 4-pixel blue
    /// checkerboard loses sharpness to 4:2:0 chroma subsampling, hence more than the eye would expect.
    /// </summary>
    const float JpegMeanTolerance = 0.06f;

    [Fact]
    public void ImageSharpIsThePinnedVersionAndPngRoundTrips()
    {
        Assert.Equal("2.1.13", ImagingBackend.Version);
        var dir = TestImages.TempFolder("png");
        try
        {
            var path = TestImages.WritePatternPng(dir);
            var img = ImageIO.Load(path);
            Assert.Equal((3, 24, 32), (img.Channels, img.Height, img.Width));
            var expected = TestImages.Pattern();
            float max = 0;
            for (int i = 0; i < expected.Length; i++)
                max = Math.Max(max, Math.Abs(MathF.Round(expected[i] * 255) / 255 - img.Pixels[i]));
            Assert.True(max <= PngRoundTripTolerance, $"max difference {max}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void JpegRoundTripIsClose()
    {
        var dir = TestImages.TempFolder("jpg");
        try
        {
            var img = ImageIO.Load(TestImages.WritePatternJpeg(dir));
            var expected = TestImages.Pattern();
            double sum = 0;
            for (int i = 0; i < expected.Length; i++) sum += Math.Abs(expected[i] - img.Pixels[i]);
            Assert.True(sum / expected.Length <= JpegMeanTolerance, $"mean difference {sum / expected.Length}");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Largest per-value difference (0..1) allowed between ImageSharp's decode of a smooth quality-100 JPEG and the
    /// pixels that were encoded (quantisation, 4:2:0 chroma and IDCT rounding on gentle ramps).
    /// </summary>
    const float JpegSmoothMaxTolerance = 8f / 255f;

    /// <summary>Mean absolute difference allowed over the same smooth JPEG.</summary>
    const float JpegSmoothMeanTolerance = 1.5f / 255f;

    [Fact]
    public void SmoothJpegDecodesCloseToThePixelsEncoded()
    {
        const int w = 64, h = 48;
        var reference = new float[3 * w * h];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int i = y * w + x;
            reference[i] = MathF.Round(255f * (0.1f + 0.8f * x / (w - 1))) / 255f;
            reference[w * h + i] = MathF.Round(255f * (0.2f + 0.6f * y / (h - 1))) / 255f;
            reference[2 * w * h + i] = MathF.Round(255f * (0.5f + 0.3f * MathF.Sin((x + y) / 20f))) / 255f;
        }
        var dir = TestImages.TempFolder("jpg-smooth");
        try
        {
            var path = Path.Combine(dir, "smooth.jpg");
            File.WriteAllBytes(path, ImageIO.EncodeJpeg(reference, 3, h, w, 100));
            var img = ImageIO.Load(path);
            Assert.Equal("Jpeg", ImageIO.ReadHeader(path).Format);
            Assert.Equal((3, h, w), (img.Channels, img.Height, img.Width));
            float max = 0;
            double sum = 0;
            for (int i = 0; i < reference.Length; i++)
            {
                float d = Math.Abs(reference[i] - img.Pixels[i]);
                max = Math.Max(max, d);
                sum += d;
            }
            Assert.True(max <= JpegSmoothMaxTolerance, $"max difference {max * 255:F1}/255");
            Assert.True(sum / reference.Length <= JpegSmoothMeanTolerance, $"mean difference {sum / reference.Length * 255:F2}/255");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void HymenopteraGifPlaceholderLoads()
    {
        var path = Path.Combine(SharedAssets.Dataset("hymenoptera_data/train"), "ants", "imageNotFound.gif");
        var header = ImageIO.ReadHeader(path);
        Assert.Equal("Gif", header.Format);
        Assert.Equal((300, 300), (header.Width, header.Height));
        var img = ImageIO.Load(path);
        Assert.Equal((3, 300, 300), (img.Channels, img.Height, img.Width));
    }

    [Fact]
    public void HymenopteraFileWithSpaceInNameLoads()
    {
        var path = Path.Combine(SharedAssets.Dataset("hymenoptera_data/train"), "ants", "ant photos.jpg");
        var img = ImageIO.Load(path);
        Assert.True(img.Width > 0 && img.Height > 0);
        // A real photo is not flat.
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in img.Pixels) { min = Math.Min(min, v); max = Math.Max(max, v); }
        Assert.True(max - min > 0.25f, $"pixel range {min}..{max}");
    }
}
