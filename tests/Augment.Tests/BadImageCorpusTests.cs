using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;
using TransferKit.Tests.Common;

namespace TransferKit.Augment.Tests;

/// <summary>
/// A hostile and awkward corpus generated here at run time (truncations at many offsets, empty and fake files, a header
/// declaring 30000×30000, 16-bit, gray, palette, CMYK, animated GIF, 1×1, EXIF orientations 1–8, a directory named like
/// an image, a directory link back to the root, unsupported and hidden files): every bad file is refused with its path and a reason, every good one
/// decodes as RGB, and a loader over the whole folder finishes with each bad file reported once.
/// </summary>
public sealed class BadImageCorpusTests : IDisposable
{
    /// <summary>Cut points as fractions of the file, plus the first bytes (inside the headers).</summary>
    static readonly double[] CutFractions = [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

    static readonly int[] CutBytes = [1, 2, 3, 7, 8, 20, 33, 60];

    /// <summary>Managed bytes the refusal of every hostile header may allocate in total (they are refused before any pixel memory).</summary>
    const long HostileHeaderAllocationBudget = 64L << 20;

    readonly string _root = TestImages.TempFolder("corpus");
    readonly Dictionary<string, string[]> _bad = new(); // path → acceptable words in the reason (any one)
    readonly List<string> _good = new();

    static readonly string[] TruncatedWords = ["truncated"];
    static readonly string[] EarlyCutWords = ["truncated", "not a recognised", "corrupt", "missing"];

    public BadImageCorpusTests()
    {
        var a = Directory.CreateDirectory(Path.Combine(_root, "alpha")).FullName;
        var b = Directory.CreateDirectory(Path.Combine(_root, "beta")).FullName;
        var jpeg = ImageIO.EncodeJpeg(TestImages.Pattern(96, 64), 3, 64, 96, 90);
        var png = ImageIO.EncodePng(TestImages.Pattern(96, 64), 3, 64, 96);
        _good.Add(Write(a, "whole.jpg", jpeg));
        _good.Add(Write(b, "whole.png", png));
        foreach (var (name, bytes, dir) in new[] { ("cut-jpeg", jpeg, a), ("cut-png", png, b) })
        {
            var cuts = CutBytes.Concat(CutFractions.Select(f => (int)(bytes.Length * f))).Append(bytes.Length - 1).Distinct();
            foreach (int cut in cuts)
                _bad[Write(dir, $"{name}-{cut}{(name == "cut-jpeg" ? ".jpg" : ".png")}", bytes[..cut])] = cut > 100 ? TruncatedWords : EarlyCutWords;
        }
        _bad[Write(a, "zero.jpg", [])] = ["empty"];
        _bad[Write(b, "text.jpg", "GIF? no: plain text pretending to be a JPEG\n"u8.ToArray())] = ["not a recognised"];
        _bad[Write(a, "huge.png", TestFiles.HugePngHeader(30_000, 30_000))] = ["30000×30000"];
        // Under the pixel limit but with next to no data behind the header: refused before a 300 MB buffer exists.
        _bad[Write(b, "hollow.png", TestFiles.HugePngHeader(9_999, 9_999))] = ["cannot hold the 9999×9999 pixels"];
        _bad[Write(a, "hollow.jpg", WithFrameSize(ImageIO.EncodeJpeg(TestImages.Pattern(), 3, 24, 32, 90), 11_000, 9_000))] = ["cannot code a 11000×9000 image"];
        // Valid small files whose frame header / IHDR (CRC recomputed) is patched to an impossible size.
        foreach (var (name, bytes, words) in ImpossibleSizes(jpeg, png)) _bad[Write(name.EndsWith(".png") ? b : a, name, bytes)] = words;
        _good.Add(Write(b, "sixteen-bit.png", TestFiles.Png16(8, 6)));
        _good.Add(Write(a, "gray.png", TestFiles.GrayPng(6, 2)));
        _good.Add(Write(b, "palette.png", TestFiles.PalettePng(8, 4)));
        _good.Add(Write(a, "cmyk.jpg", TestFiles.CmykJpeg(0, 255, 0, 0)));
        _good.Add(Write(b, "animated.gif", AnimatedGif()));
        _good.Add(Write(a, "one-pixel.png", ImageIO.EncodePng([0.2f, 0.4f, 0.6f], 3, 1, 1)));
        var small = ImageIO.EncodeJpeg(TestImages.Pattern(), 3, 24, 32, 95);
        for (ushort o = 1; o <= 8; o++) _good.Add(Write(o % 2 == 0 ? a : b, $"exif-{o}.jpg", TestFiles.WithExifOrientation(small, o)));
        Directory.CreateDirectory(Path.Combine(a, "x.jpg")); // a directory named like an image: not a sample
        Directory.CreateSymbolicLink(Path.Combine(b, "loop"), _root); // would list every file again, forever
        // Not images by their names: listed as skipped by the walk; hidden files are left out silently.
        Write(a, "scan.tiff", [0x49, 0x49, 0x2A, 0x00]);
        Write(b, "notes.txt", "labels are the folder names\n"u8.ToArray());
        Write(a, "README", "no extension\n"u8.ToArray());
        Write(_root, "stray.jpg", jpeg);
        Write(a, ".DS_Store", [0, 0, 0, 1]);
        Write(b, "._whole.png", [0, 5, 22, 7]);
        Directory.CreateDirectory(Path.Combine(b, ".ipynb_checkpoints"));
        Write(Path.Combine(b, ".ipynb_checkpoints"), "whole-checkpoint.png", png);
        _listingSkipped = new()
        {
            [Path.Combine(a, "x.jpg")] = "a directory, not an image file (the files inside it are still read)",
            [Path.Combine(b, "loop")] = "a link to a directory (directory links are not followed)",
            [Path.Combine(a, "scan.tiff")] = "unsupported format .tiff (JPEG, PNG, GIF, BMP, WebP or TGA expected)",
            [Path.Combine(b, "notes.txt")] = "unsupported format .txt (JPEG, PNG, GIF, BMP, WebP or TGA expected)",
            [Path.Combine(a, "README")] = "unsupported format: no file extension (.jpg, .jpeg, .png, .gif, .bmp, .webp or .tga expected)",
            [Path.Combine(_root, "stray.jpg")] = "an image file beside the class folders, not inside one",
        };
    }

    /// <summary>What the dataset walk must list as skipped: path → exact reason.</summary>
    readonly Dictionary<string, string> _listingSkipped;

    /// <summary>
    /// Small valid files patched to declare sizes no decoder should attempt: 0×0 and 65500×65500 in a JPEG SOF0 and a
    /// PNG IHDR, and a PNG side beyond 2³¹. Each comes with the words its reason must hold (the declared size).
    /// </summary>
    static IEnumerable<(string Name, byte[] Bytes, string[] Words)> ImpossibleSizes(byte[] jpeg, byte[] png) =>
    [
        ("sof-0x0.jpg", WithFrameSize(jpeg, 0, 0), ["0×0"]),
        ("sof-65500x65500.jpg", WithFrameSize(jpeg, 65_500, 65_500), ["65500×65500"]),
        ("sof-0x64.jpg", WithFrameSize(jpeg, 0, 64), ["0×64"]),
        ("ihdr-0x0.png", TestFiles.WithIhdrSize(png, 0, 0), ["0×0"]),
        ("ihdr-65500x65500.png", TestFiles.WithIhdrSize(png, 65_500, 65_500), ["65500×65500"]),
        ("ihdr-3000000000x1.png", TestFiles.WithIhdrSize(png, 3_000_000_000, 1), ["3000000000×1"]),
    ];

    [Fact]
    public void ImpossibleHeaderSizesAreRefusedBeforeDecodingNamingTheSizeAndTheLimit()
    {
        var jpeg = ImageIO.EncodeJpeg(TestImages.Pattern(96, 64), 3, 64, 96, 90);
        var png = ImageIO.EncodePng(TestImages.Pattern(96, 64), 3, 64, 96);
        var expected = new Dictionary<string, string>
        {
            ["sof-0x0.jpg"] = $"the header declares an empty size 0×0 (each side must be 1 to {ImageLimits.DefaultMaxSide} pixels); refused before decoding",
            ["sof-0x64.jpg"] = $"the header declares an empty size 0×64 (each side must be 1 to {ImageLimits.DefaultMaxSide} pixels); refused before decoding",
            ["sof-65500x65500.jpg"] = $"the header declares 65500×65500 = 4,290,250,000 pixels, beyond the {ImageLimits.DefaultMaxPixels:N0}-pixel limit; refused before decoding",
            ["ihdr-0x0.png"] = $"the header declares an empty size 0×0 (each side must be 1 to {ImageLimits.DefaultMaxSide} pixels); refused before decoding",
            ["ihdr-65500x65500.png"] = $"the header declares 65500×65500 = 4,290,250,000 pixels, beyond the {ImageLimits.DefaultMaxPixels:N0}-pixel limit; refused before decoding",
            ["ihdr-3000000000x1.png"] = $"the header declares 3000000000×1 pixels, beyond the {ImageLimits.DefaultMaxSide}-pixel side limit; refused before decoding",
        };
        long before = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var (name, bytes, _) in ImpossibleSizes(jpeg, png))
        {
            var e = Assert.Throws<ImageDecodeException>(() => EncodedImage.FromBytes(bytes, name).Dispose());
            Assert.Equal(expected[name], e.Reason);
            Assert.Equal(name, e.Path);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < HostileHeaderAllocationBudget, $"refusing impossible headers allocated {allocated:N0} bytes");
    }

    /// <summary>A copy of a baseline JPEG whose SOF0 frame header declares <paramref name="width"/>×<paramref name="height"/>.</summary>
    static byte[] WithFrameSize(byte[] jpeg, int width, int height)
    {
        var copy = (byte[])jpeg.Clone();
        int sof = -1;
        for (int i = 2; i + 9 < copy.Length; i++) if (copy[i] == 0xFF && copy[i + 1] == 0xC0) { sof = i; break; }
        Assert.True(sof > 0, "the encoder wrote a baseline SOF0 segment");
        copy[sof + 5] = (byte)(height >> 8); copy[sof + 6] = (byte)height;
        copy[sof + 7] = (byte)(width >> 8); copy[sof + 8] = (byte)width;
        return copy;
    }

    /// <summary>Two frames, red then blue: only the first is decoded.</summary>
    static byte[] AnimatedGif()
    {
        using var image = new Image<Rgb24>(10, 8, new Rgb24(255, 0, 0));
        using var second = new Image<Rgb24>(10, 8, new Rgb24(0, 0, 255));
        image.Frames.AddFrame(second.Frames.RootFrame);
        Assert.Equal(2, image.Frames.Count);
        using var stream = new MemoryStream();
        image.Save(stream, new GifEncoder());
        return stream.ToArray();
    }

    static string Write(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        File.Delete(Path.Combine(_root, "beta", "loop")); // remove the link itself before the tree
        Directory.Delete(_root, true);
    }

    [Fact]
    public void EveryBadFileIsRefusedWithItsPathAndAReason()
    {
        Assert.True(_bad.Count >= 40, $"{_bad.Count} bad files");
        foreach (var (path, words) in _bad)
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Load(path));
            Assert.Equal(path, e.Path);
            Assert.Contains(path, e.Message);
            Assert.True(words.Any(w => e.Reason.Contains(w)), $"{path}: reason '{e.Reason}' has none of {string.Join(", ", words)}");
        }
    }

    [Fact]
    public void EveryGoodFileDecodesAsRgb()
    {
        foreach (var path in _good)
        {
            var img = ImageIO.Load(path);
            Assert.Equal(3, img.Channels);
            Assert.True(img.Width > 0 && img.Height > 0, path);
        }
        var gif = ImageIO.Load(Path.Combine(_root, "beta", "animated.gif"));
        Assert.Equal((10, 8), (gif.Width, gif.Height));
        Assert.True(gif.Plane(0)[0] > 0.9f && gif.Plane(2)[0] < 0.1f, $"first frame is red: ({gif.Plane(0)[0]}, {gif.Plane(2)[0]})");
        var magenta = ImageIO.Load(Path.Combine(_root, "alpha", "cmyk.jpg"));
        Assert.True(magenta.Plane(0)[0] > 0.9f && magenta.Plane(1)[0] < 0.1f && magenta.Plane(2)[0] > 0.9f, "magenta ink is RGB magenta");
    }

    [Fact]
    public void HostileHeadersAreRefusedBeforeAnyPixelMemory()
    {
        var hostile = new[] { Path.Combine(_root, "alpha", "huge.png"), Path.Combine(_root, "beta", "hollow.png"), Path.Combine(_root, "alpha", "hollow.jpg") };
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 20; i++)
        foreach (var path in hostile)
        {
            var e = Assert.Throws<ImageDecodeException>(() => EncodedImage.Open(path).Dispose());
            Assert.Contains("refused before decoding", e.Reason);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < HostileHeaderAllocationBudget, $"refusing 60 hostile headers allocated {allocated:N0} bytes");
    }

    [Fact]
    public void PixelLimitIsCheckedOnTheIdentifiedHeader()
    {
        // A well-formed small lossless WebP whose VP8L header is rewritten to declare 12000×9000 = 108 MP: only
        // Image.Identify sees that size (the sniffer reads PNG, GIF, BMP and JPEG), and the 100 MP limit must refuse it.
        var webp = WithVp8lSize(ImageIO.EncodeWebp(TestImages.Pattern(), 3, 24, 32, 100), 12_000, 9_000);
        var path = Write(Path.Combine(_root, "alpha"), "declares-108-megapixels.webp", webp);
        try
        {
            Assert.Null(HeaderSniffer.TryReadSize(webp));
            var e = Assert.Throws<ImageDecodeException>(() => EncodedImage.Open(path).Dispose());
            Assert.Contains("12000×9000", e.Reason);
            Assert.Contains(ImageLimits.DefaultMaxPixels.ToString("N0"), e.Reason);
            Assert.Contains("refused before decoding", e.Reason);
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    /// <summary>A copy of a lossless WebP whose VP8L header (14 bits each of width − 1 and height − 1) declares another size.</summary>
    static byte[] WithVp8lSize(byte[] webp, int width, int height)
    {
        var copy = (byte[])webp.Clone();
        int chunk = copy.AsSpan().IndexOf("VP8L"u8);
        Assert.True(chunk > 0 && copy[chunk + 8] == 0x2F, "the encoder wrote a VP8L bitstream");
        uint bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(chunk + 9));
        bits = (bits & 0xF000_0000u) | (uint)(width - 1) | (uint)(height - 1) << 14;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(chunk + 9), bits);
        return copy;
    }

    [Fact]
    public void DatasetWalkListsTheLoopTheDirectoryAndUnsupportedFilesAsSkippedAndLeavesHiddenFilesOut()
    {
        var data = ImageFolderDataset.FromFolder(_root);
        var listed = Enumerable.Range(0, data.Count).Select(data.PathOf).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Equal(_good.Count + _bad.Count, listed.Count);
        Assert.DoesNotContain(listed, p => p.Contains(Path.DirectorySeparatorChar + "loop" + Path.DirectorySeparatorChar));
        Assert.DoesNotContain(Path.Combine(_root, "alpha", "x.jpg"), listed);
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Load(Path.Combine(_root, "alpha", "x.jpg")));
        Assert.Contains("directory", e.Reason);

        Assert.Equal(_listingSkipped.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)),
            data.ListingSkipped.Select(s => (s.Path, s.Reason)));
        Assert.All(data.ListingSkipped, s => Assert.Equal(-1, s.Index));
        var everything = listed.Concat(data.ListingSkipped.Select(s => s.Path)).ToList();
        Assert.DoesNotContain(everything, p => Path.GetFileName(p).StartsWith('.') || p.Contains(".ipynb_checkpoints"));

        // A split and a subset report the same listing as their source.
        var split = data.Split(0.25, 1);
        Assert.Equal(data.ListingSkipped, split.Train.ListingSkipped);
        Assert.Equal(data.ListingSkipped, split.Validation.ListingSkipped);
        Assert.Equal(data.ListingSkipped, SubsetDataset.Balanced(data, 4, 2).ListingSkipped);
    }

    [Fact]
    public void AFolderOfOnlyUnsupportedFilesNamesThemInItsError()
    {
        var root = TestImages.TempFolder("only-tiff");
        try
        {
            var cls = Directory.CreateDirectory(Path.Combine(root, "cats")).FullName;
            for (int i = 0; i < 12; i++) Write(cls, $"scan-{i:D2}.tiff", [0x49, 0x49, 0x2A, 0x00]);
            var e = Assert.Throws<InvalidDataException>(() => ImageFolderDataset.FromFolder(root));
            Assert.Contains("has no image files", e.Message);
            Assert.Contains($"{Path.Combine(cls, "scan-00.tiff")}: unsupported format .tiff", e.Message);
            Assert.Contains($"… and {12 - SkippedFile.ConsoleLimit} more", e.Message);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void LoaderBenchmarkListsEveryListingAndDecodingSkipWithItsReason()
    {
        var data = ImageFolderDataset.FromFolder(_root);
        var r = LoaderBenchmark.Run(data, new TransformPipeline(new RandomResizedCrop(16)), threads: 2, batchSize: 8, epochs: 1, decodeCacheMegabytes: 0);
        Assert.Equal(_good.Count, r.Images);
        Assert.Equal(_bad.Count + _listingSkipped.Count, r.Skipped);
        Assert.Equal(r.Skipped, r.SkippedFiles.Count);
        Assert.Equal(_bad.Keys.Concat(_listingSkipped.Keys).Order(StringComparer.Ordinal), r.SkippedFiles.Select(s => s.Path));
        foreach (var (path, reason) in _listingSkipped) Assert.Contains(new SkippedFile(-1, path, reason), r.SkippedFiles);
        foreach (var s in r.SkippedFiles.Where(s => _bad.ContainsKey(s.Path)))
            Assert.True(_bad[s.Path].Any(w => s.Reason.Contains(w)), $"{s.Path}: reason '{s.Reason}' has none of {string.Join(", ", _bad[s.Path])}");
    }

    [Fact]
    public void AConsoleListingShowsTheFirstTenAndHowManyMore()
    {
        var skipped = Enumerable.Range(0, 13).Select(i => new SkippedFile(i, Path.Combine(_root, "alpha", $"f{i:D2}.jpg"), $"reason {i}")).ToList();
        var text = SkippedFile.ConsoleListing(skipped, relativeTo: _root);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal($"13 files skipped (paths relative to {_root}):", lines[0]);
        Assert.Equal($"  {Path.Combine("alpha", "f00.jpg")}: reason 0", lines[1]);
        Assert.Equal($"  {Path.Combine("alpha", "f09.jpg")}: reason 9", lines[SkippedFile.ConsoleLimit]);
        Assert.Equal("  … and 3 more", lines[^1]);
        Assert.Equal(SkippedFile.ConsoleLimit + 2, lines.Length);
        Assert.Equal("", SkippedFile.ConsoleListing([]));
        Assert.Equal($"1 file skipped:\n  {skipped[0]}\n", SkippedFile.ConsoleListing(skipped.Take(1).ToList()));
        // Outside the root a path stays as it is.
        Assert.Equal("/elsewhere/a.jpg", new SkippedFile(0, "/elsewhere/a.jpg", "r").RelativeTo(_root).Path);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(DataLoaderOptions.DefaultDecodeCacheMegabytes)]
    public void LoaderOverTheCorpusFinishesAndReportsEachBadFileOnce(int cacheMegabytes)
    {
        var data = ImageFolderDataset.FromFolder(_root);
        using var loader = new DataLoader(data, new TransformPipeline(new RandomResizedCrop(24), new RandomHorizontalFlip()),
            new DataLoaderOptions { BatchSize = 8, Threads = 2, Prefetch = 2, Seed = 3, DecodeCacheMegabytes = cacheMegabytes });
        for (int epoch = 0; epoch < 2; epoch++)
        {
            int images = 0;
            foreach (var batch in loader.Epoch(epoch)) images += batch.Count;
            Assert.Equal(_good.Count, images);
        }
        Assert.Equal(_bad.Count, loader.Summary.SkippedCount);
        Assert.Equal(_bad.Keys.Order(StringComparer.Ordinal), loader.Summary.Skipped.Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.All(loader.Summary.Skipped, s => Assert.False(string.IsNullOrWhiteSpace(s.Reason), s.Path));
    }
}

/// <summary>
/// The case behind an intermittent crash on the old native decoder: 20 good hymenoptera JPEGs and 5 copies truncated at
/// bytes 600, 2000, 23353, 42035 and 46704, decoded by two worker threads over several epochs. The run must finish, the
/// good images must all arrive every epoch, and exactly the five truncated files must be reported as skipped.
/// </summary>
public sealed class TruncatedHymenopteraTests : IDisposable
{
    /// <summary>Where the photos were cut.</summary>
    public static readonly int[] Cuts = [600, 2000, 23353, 42035, 46704];

    readonly string _root = TestImages.TempFolder("truncated-hymenoptera");
    readonly List<string> _truncated = new();

    public TruncatedHymenopteraTests()
    {
        var source = SharedAssets.Dataset("hymenoptera_data/train");
        foreach (var cls in new[] { "ants", "bees" })
        {
            var dir = Directory.CreateDirectory(Path.Combine(_root, cls)).FullName;
            var photos = Directory.GetFiles(Path.Combine(source, cls), "*.jpg").Order(StringComparer.Ordinal)
                .Where(f => new FileInfo(f).Length > Cuts.Max() + 1).Take(10).ToList();
            Assert.Equal(10, photos.Count);
            foreach (var p in photos) File.Copy(p, Path.Combine(dir, Path.GetFileName(p)));
        }
        var donors = Directory.GetFiles(Path.Combine(_root, "ants"));
        for (int i = 0; i < Cuts.Length; i++)
        {
            var bytes = File.ReadAllBytes(donors[i]);
            var path = Path.Combine(_root, i % 2 == 0 ? "ants" : "bees", $"cut-at-{Cuts[i]}.jpg");
            File.WriteAllBytes(path, bytes[..Cuts[i]]);
            _truncated.Add(path);
        }
    }

    public void Dispose() => Directory.Delete(_root, true);

    [Fact]
    public void TwoThreadsDecodeGoodAndTruncatedPhotosAndSkipExactlyTheTruncatedOnes()
    {
        var data = ImageFolderDataset.FromFolder(_root);
        Assert.Equal(25, data.Count);
        using var loader = new DataLoader(data, TransformPipeline.Parse("RandomResizedCrop(64),RandomHorizontalFlip(0.5),ColorJitter(0.4,0.4,0.4,0.1)"),
            new DataLoaderOptions { BatchSize = 4, Threads = 2, Prefetch = 2, Seed = 11, DecodeCacheMegabytes = 0 });
        for (int epoch = 0; epoch < 4; epoch++)
        {
            int images = 0;
            foreach (var batch in loader.Epoch(epoch)) images += batch.Count;
            Assert.Equal(20, images);
        }
        Assert.Equal(_truncated.Order(StringComparer.Ordinal), loader.Summary.Skipped.Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.All(loader.Summary.Skipped, s => Assert.Contains("truncated", s.Reason));
    }
}
