using TransferKit.Augment.Imaging;

namespace TransferKit.Augment.Tests;

/// <summary>Deterministic synthetic images and hand-built files for the tests.</summary>
public static class TestImages
{
    /// <summary>
    /// A 3 × height × width pattern in [0, 1]: a red horizontal ramp, a green vertical ramp, a blue checkerboard of
    /// 4-pixel squares and a white 4×4 marker in the top-left corner, so flips, rotations and crops are visible.
    /// </summary>
    public static float[] Pattern(int width = 32, int height = 24)
    {
        var chw = new float[3 * width * height];
        int plane = width * height;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int i = y * width + x;
            bool marker = x < 4 && y < 4;
            chw[i] = marker ? 1f : (x + 0.5f) / width;
            chw[plane + i] = marker ? 1f : (y + 0.5f) / height;
            chw[2 * plane + i] = marker ? 1f : ((x / 4 + y / 4) % 2 == 0 ? 0.8f : 0.2f);
        }
        return chw;
    }

    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string TempFolder(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "transferkit-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes the pattern as a PNG file and returns its path.</summary>
    public static string WritePatternPng(string dir, string name = "pattern.png", int width = 32, int height = 24)
    {
        var path = Path.Combine(dir, name);
        ImageIO.SavePng(Pattern(width, height), 3, height, width, path);
        return path;
    }

    /// <summary>Writes the pattern as a JPEG file and returns its path.</summary>
    public static string WritePatternJpeg(string dir, string name = "pattern.jpg", int width = 32, int height = 24, int quality = 95)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, ImageIO.EncodeJpeg(Pattern(width, height), 3, height, width, quality));
        return path;
    }
}
