using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Tests;

/// <summary>A corpus of broken and awkward files built at run time: nothing crashes, each bad file is reported once.</summary>
public sealed class BadFileTests : IDisposable
{
    readonly string _root = TestImages.TempFolder("badfiles");
    readonly Dictionary<string, string> _bad = new(); // path → expected words in the reason
    readonly List<string> _good = new();

    public BadFileTests()
    {
        var a = Directory.CreateDirectory(Path.Combine(_root, "alpha")).FullName;
        var b = Directory.CreateDirectory(Path.Combine(_root, "beta")).FullName;
        _good.Add(TestImages.WritePatternPng(a, "good.png"));
        _good.Add(TestImages.WritePatternJpeg(b, "good.jpg", 64, 48));
        _good.Add(Write(a, "one-pixel.png", ImageIO.EncodePng([0.2f, 0.4f, 0.6f], 3, 1, 1)));
        _good.Add(Write(b, "sixteen-bit.png", TestFiles.Png16(8, 6)));
        _good.Add(Write(a, "cmyk.jpg", TestFiles.CmykJpeg(255, 0, 0, 0)));
        _good.Add(Write(b, "small.bmp", TestFiles.Bmp(6, 4, (10, 20, 30))));

        var jpeg = ImageIO.EncodeJpeg(TestImages.Pattern(64, 48), 3, 48, 64, 90);
        _bad[Write(a, "truncated.jpg", jpeg[..(jpeg.Length * 6 / 10)])] = "truncated";
        _bad[Write(b, "text.jpg", "this is not an image\n"u8.ToArray())] = "not a recognised image";
        _bad[Write(a, "empty.png", [])] = "empty";
        _bad[Write(b, "huge.png", TestFiles.HugePngHeader(100_000, 100_000))] = "100000×100000";
        _bad[Write(a, "huge.bmp", TestFiles.Bmp(4, 4, (0, 0, 0), 100_000, 100_000, withPixels: false))] = "100000×100000";
    }

    static string Write(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(_root, true);

    [Fact]
    public void EveryBadFileIsRefusedWithItsPathAndReason()
    {
        foreach (var (path, words) in _bad)
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Load(path));
            Assert.Equal(path, e.Path);
            Assert.Contains(path, e.Message);
            Assert.Contains(words, e.Reason);
        }
    }

    [Fact]
    public void HugeHeadersAreRefusedBeforeDecoding()
    {
        foreach (var name in new[] { "beta/huge.png", "alpha/huge.bmp" })
        {
            var path = Path.Combine(_root, name);
            var e = Assert.Throws<ImageDecodeException>(() => EncodedImage.Open(path).Dispose());
            Assert.Contains("refused before decoding", e.Reason);
        }
    }

    [Fact]
    public void GoodFilesInTheCorpusLoadAsRgb()
    {
        foreach (var path in _good)
        {
            var img = ImageIO.Load(path);
            Assert.Equal(3, img.Channels);
            Assert.True(img.Width > 0 && img.Height > 0, path);
        }
    }

    [Fact]
    public void LoaderSkipsBadFilesCountsThemAndKeepsGoing()
    {
        var data = ImageFolderDataset.FromFolder(_root);
        Assert.Equal(_good.Count + _bad.Count, data.Count);
        var reported = new List<SkippedFile>();
        using var loader = new DataLoader(data, new TransformPipeline(new RandomResizedCrop(16), new RandomHorizontalFlip()),
            new DataLoaderOptions { BatchSize = 4, Threads = 2, Prefetch = 2, Seed = 5 });
        loader.Summary.FileSkipped += f => { lock (reported) reported.Add(f); };
        for (int epoch = 0; epoch < 2; epoch++)
        {
            int images = 0;
            foreach (var batch in loader.Epoch(epoch))
            {
                images += batch.Count;
                for (int i = 0; i < batch.Count; i++) Assert.Contains(data.Describe(batch.SampleIndices[i]), _good);
            }
            Assert.Equal(_good.Count, images);
        }
        Assert.Equal(2L * _good.Count, loader.Summary.Loaded);
        Assert.Equal(_bad.Count, loader.Summary.SkippedCount);
        Assert.Equal(_bad.Count, reported.Count); // each file reported once, not once per epoch
        foreach (var s in loader.Summary.Skipped)
        {
            Assert.True(_bad.TryGetValue(s.Path, out var words), $"unexpected skip {s}");
            Assert.Contains(words, s.Reason);
        }
    }
}
