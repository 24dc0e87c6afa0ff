using TransferKit.Augment.Imaging;

namespace TransferKit.Augment.Tests;

/// <summary>Colour models and containers all decode to RGB with the right colours.</summary>
public sealed class FormatTests : IDisposable
{
    /// <summary>Allowed error (0..1) for flat colours after lossless formats.</summary>
    const float LosslessTolerance = 1.5f / 255f;

    /// <summary>Allowed error for flat colours in the hand-built CMYK JPEG (DC-only, quantisation 1).</summary>
    const float CmykTolerance = 3f / 255f;

    readonly string _dir = TestImages.TempFolder("formats");

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static (float R, float G, float B) At(Transforms.SampleBuffer img, int x, int y)
    {
        int i = y * img.Width + x;
        return (img.Plane(0)[i], img.Plane(1)[i], img.Plane(2)[i]);
    }

    static void Near((float R, float G, float B) actual, (float R, float G, float B) expected, float tolerance)
    {
        Assert.True(Math.Abs(actual.R - expected.R) <= tolerance && Math.Abs(actual.G - expected.G) <= tolerance
            && Math.Abs(actual.B - expected.B) <= tolerance, $"expected {expected}, got {actual}");
    }

    [Fact]
    public void CmykJpegBecomesRgb()
    {
        var img = ImageIO.Load(Write("cmyk.jpg", TestFiles.CmykJpeg(255, 0, 0, 0)));
        Assert.Equal((3, 16, 16), (img.Channels, img.Height, img.Width));
        Near(At(img, 5, 5), (0f, 1f, 1f), CmykTolerance); // full cyan ink = RGB cyan
        var black = ImageIO.Load(Write("cmyk-k.jpg", TestFiles.CmykJpeg(0, 0, 0, 255)));
        Near(At(black, 9, 9), (0f, 0f, 0f), CmykTolerance);
    }

    [Fact]
    public void SixteenBitPngIsReducedTo8BitRgb()
    {
        var img = ImageIO.Load(Write("p16.png", TestFiles.Png16(8, 2)));
        Near(At(img, 0, 0), (0f, 0f, 1f), LosslessTolerance);
        Near(At(img, 7, 1), (1f, 0f, 1f), LosslessTolerance);
    }

    [Fact]
    public void PaletteGrayAndAlphaPngsBecomeRgb()
    {
        var pal = ImageIO.Load(Write("pal.png", TestFiles.PalettePng(8, 4)));
        Near(At(pal, 1, 1), (1f, 0f, 0f), LosslessTolerance);
        Near(At(pal, 6, 2), (0f, 0f, 1f), LosslessTolerance);
        var gray = ImageIO.Load(Write("gray.png", TestFiles.GrayPng(6, 2)));
        Near(At(gray, 5, 0), (1f, 1f, 1f), LosslessTolerance);
        Near(At(gray, 0, 1), (0f, 0f, 0f), LosslessTolerance);
        // Alpha is dropped like Pillow's convert("RGB"): the colour stays, transparent or not.
        var alpha = ImageIO.Load(Write("alpha.png", TestFiles.AlphaPng(8, 2)));
        Near(At(alpha, 1, 0), (0f, 200f / 255f, 0f), LosslessTolerance);
        Near(At(alpha, 6, 1), (0f, 200f / 255f, 0f), LosslessTolerance);
    }

    [Fact]
    public void BmpAndWebpDecode()
    {
        var bmp = ImageIO.Load(Write("c.bmp", TestFiles.Bmp(5, 3, (250, 128, 3))));
        Assert.Equal((5, 3), (bmp.Width, bmp.Height));
        Near(At(bmp, 4, 2), (250f / 255, 128f / 255, 3f / 255), LosslessTolerance);
        var pattern = TestImages.Pattern();
        var webp = ImageIO.Load(Write("p.webp", ImageIO.EncodeWebp(pattern, 3, 24, 32, 100)));
        Assert.Equal("Webp", ImageIO.ReadHeader(Path.Combine(_dir, "p.webp")).Format);
        Assert.Equal((32, 24), (webp.Width, webp.Height));
        Near(At(webp, 0, 0), (1f, 1f, 1f), 0.05f);
    }

    [Theory]
    [InlineData(1, 0, 0)]   // as stored: marker top-left
    [InlineData(2, 31, 0)]  // mirrored: marker top-right
    [InlineData(3, 31, 23)] // 180°: bottom-right
    [InlineData(4, 0, 23)]  // flipped: bottom-left
    [InlineData(5, 0, 0)]   // transposed: top-left, size swapped
    [InlineData(6, 23, 0)]  // turned clockwise: top-right
    [InlineData(7, 23, 31)] // transverse: bottom-right
    [InlineData(8, 0, 31)]  // turned counter-clockwise: bottom-left
    public void ExifOrientationIsApplied(int orientation, int markerX, int markerY)
    {
        var jpeg = ImageIO.EncodeJpeg(TestImages.Pattern(), 3, 24, 32, 95);
        var path = Write($"o{orientation}.jpg", TestFiles.WithExifOrientation(jpeg, (ushort)orientation));
        var header = ImageIO.ReadHeader(path);
        Assert.Equal(orientation, header.Orientation);
        var img = ImageIO.Load(path);
        var expectedSize = orientation >= 5 ? (24, 32) : (32, 24);
        Assert.Equal(expectedSize, (img.Width, img.Height));
        // The white 4×4 marker lands in the expected corner: probe 1 pixel inside it.
        int px = markerX == 0 ? 1 : markerX - 1, py = markerY == 0 ? 1 : markerY - 1;
        var (r, g, b) = At(img, px, py);
        Assert.True(r > 0.85f && g > 0.85f && b > 0.85f, $"orientation {orientation}: ({px},{py}) = ({r},{g},{b})");
    }
}
