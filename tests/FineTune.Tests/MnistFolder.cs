using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>A small image-folder dataset for quick fine-tune runs: the first MNIST test images of a few digits, as PNGs.</summary>
static class MnistFolder
{
    /// <summary>Writes <paramref name="perClass"/> images of each digit in <paramref name="digits"/> into class folders under a new temporary folder.</summary>
    public static string Create(int perClass, params int[] digits)
    {
        var mnist = IdxDataset.Load(SharedAssets.Dataset("mnist/t10k-images-idx3-ubyte.gz"), SharedAssets.Dataset("mnist/t10k-labels-idx1-ubyte.gz"));
        var root = Directory.CreateTempSubdirectory("transferkit-mnist-").FullName;
        var written = new Dictionary<int, int>();
        foreach (var d in digits) { Directory.CreateDirectory(Path.Combine(root, d.ToString(System.Globalization.CultureInfo.InvariantCulture))); written[d] = 0; }
        var planar = new float[mnist.Width * mnist.Height];
        for (int i = 0; i < mnist.Count && written.Values.Any(n => n < perClass); i++)
        {
            int label = mnist.GetLabel(i);
            if (!written.TryGetValue(label, out int n) || n >= perClass) continue;
            var pixels = mnist.GetSource(i).Pixels.Span;
            for (int p = 0; p < planar.Length; p++) planar[p] = pixels[p] / 255f;
            File.WriteAllBytes(Path.Combine(root, label.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{i:D5}.png"), ImageIO.EncodePng(planar, 1, mnist.Height, mnist.Width));
            written[label] = n + 1;
        }
        return root;
    }
}
