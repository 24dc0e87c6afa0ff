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
