using System.Runtime.InteropServices;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Caching;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The frozen-prefix feature cache on a few hymenoptera images through SqueezeNet 1.1 up to fire9/concat_1 (the
/// frontier of the head recipe): spilling, fp16, the budget, the key, and reuse or rebuild of spill files.
/// </summary>
public class FeatureCacheTests : IDisposable
{
    readonly List<string> _folders = [];
    /// <summary>Round-to-nearest half keeps a relative error of at most 2⁻¹¹ for normal values…</summary>
    static readonly double Fp16RelativeTolerance = Math.ScaleB(1, -11);
    /// <summary>…and an absolute error of at most half the subnormal spacing (2⁻²⁵) below them.</summary>
    static readonly double Fp16AbsoluteTolerance = Math.ScaleB(1, -25);

    const string Frontier = "fire9/concat_1";
    const int Views = 2;
    const int Images = 8;

    static readonly Lazy<ComputeGraph> Prefix = new(() =>
    {
        var graph = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx")).Graph;
        var frontier = graph.Find(Frontier) ?? throw new InvalidOperationException($"SqueezeNet 1.1 has no value '{Frontier}'.");
        return graph.Subgraph(0, frontier.Producer!.Index + 1, [frontier]);
    });

    static ImageDataset Images8() =>
        SubsetDataset.Balanced(ImageFolderDataset.FromFolder(SharedAssets.Dataset("hymenoptera_data/train")), Images, seed: 3);

    static TransformPipeline Light => AugmentLevels.Get("light", 224, Preprocessing.CaffeImageNet);

    /// <summary>A scratch folder, deleted after the test (spill files run to tens of MB).</summary>
    string TempFolder()
    {
        var folder = Directory.CreateTempSubdirectory("transferkit-cache-").FullName;
        _folders.Add(folder);
        return folder;
    }

    public void Dispose()
    {
        foreach (var f in _folders)
            try { Directory.Delete(f, recursive: true); } catch (IOException) { }
    }

    static FeatureCache Cache(FeatureCacheSettings settings, TextWriter? log = null, ImageDataset? data = null) =>
        FeatureCache.GetOrBuild("train", Prefix.Value, data ?? Images8(), Light, Views, settings with { Batch = 4, Threads = 2 }, log);

    /// <summary>Every record, view by view, read in a shuffled order (spilled records one at a time) and in order (runs of records).</summary>
    static float[] All(FeatureCache c)
    {
        var result = new float[2 * c.Views * c.ValidSamples.Length * c.FeatureLength];
        var shuffled = c.ValidSamples.Reverse().ToArray();
        (shuffled[0], shuffled[^1]) = (shuffled[^1], shuffled[0]);
        int at = 0;
        for (int v = 0; v < c.Views; v++)
            foreach (var order in new[] { shuffled, c.ValidSamples })
            {
                var part = result.AsSpan(at, order.Length * c.FeatureLength);
                c.Read(v, order, part);
                at += part.Length;
            }
        return result;
    }

    static readonly Lazy<float[]> Reference = new(() =>
    {
        using var c = Cache(new FeatureCacheSettings());
        Assert.Null(c.FilePath);
        Assert.Equal(Images, c.ValidSamples.Length);
        return All(c);
    });

    [Fact]
    public void SpilledFp32FeaturesAreBitwiseTheInMemoryOnes()
    {
        var folder = TempFolder();
        var record = 512L * 13 * 13 * sizeof(float);
        long budget = 3 * record + record / 2;
        using var spilled = Cache(new FeatureCacheSettings { Folder = folder, BudgetBytes = budget });
        Assert.Equal(3, spilled.ResidentRecords);
        Assert.True(spilled.ResidentBytes <= budget, $"{spilled.ResidentBytes} bytes in memory, budget {budget}");
        Assert.Equal(spilled.Bytes - spilled.ResidentBytes, spilled.SpilledBytes);
        Assert.NotNull(spilled.FilePath);
        Assert.True(MemoryMarshal.AsBytes(All(spilled).AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Reference.Value.AsSpan())));
        // The file is complete, named by its key, and no temporary file is left behind.
        Assert.Equal([Path.GetFileName(spilled.FilePath)], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.StartsWith($"train-{spilled.Key.Hex[..16]}", Path.GetFileName(spilled.FilePath));
    }

    [Fact]
    public void Fp16FeaturesAreWithinHalfRoundingAndSpillBitwise()
    {
        using var inMemory = Cache(new FeatureCacheSettings { Precision = FeaturePrecision.Fp16 });
        Assert.Equal(512L * 13 * 13 * 2, inMemory.RecordBytes);
        var half = All(inMemory);
        var reference = Reference.Value;
        int outside = 0;
        for (int i = 0; i < half.Length; i++)
            if (Math.Abs(half[i] - reference[i]) > Fp16RelativeTolerance * Math.Abs(reference[i]) + Fp16AbsoluteTolerance) outside++;
        Assert.Equal(0, outside);
        Assert.False(half.AsSpan().SequenceEqual(reference), "fp16 features should be rounded");

        long budget = 5 * inMemory.RecordBytes;
        using var spilled = Cache(new FeatureCacheSettings { Precision = FeaturePrecision.Fp16, Folder = TempFolder(), BudgetBytes = budget });
        Assert.Equal(5, spilled.ResidentRecords);
        Assert.True(spilled.ResidentBytes <= budget);
        Assert.True(All(spilled).AsSpan().SequenceEqual(half));
    }

    [Fact]
    public void HalfRangeIsCheckedBeforeStoringFp16()
    {
        Assert.True(FeatureEncoding.FitsHalf([0f, -3.5f, FeatureEncoding.HalfMax, -FeatureEncoding.HalfMax], out _));
        Assert.False(FeatureEncoding.FitsHalf([1f, 70000f, 2f], out float worst));
        Assert.Equal(70000f, worst);
        Assert.False(FeatureEncoding.FitsHalf([1f, float.NaN], out _));
        Assert.False(FeatureEncoding.FitsHalf([float.NegativeInfinity], out _));
        // Odd lengths go through the vector body and the scalar tail alike.
        var values = Enumerable.Range(0, 37).Select(i => (i - 18) * 1.37f).ToArray();
        var record = new byte[values.Length * 2];
        FeatureEncoding.Encode(values, record, FeaturePrecision.Fp16);
        var back = new float[values.Length];
        FeatureEncoding.Decode(record, back, FeaturePrecision.Fp16);
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)(Half)values[i], back[i]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public void ReopenedCacheKeepsToTheBudget(int budgetRecords)
    {
        var folder = TempFolder();
        long record = 512L * 13 * 13 * sizeof(float);
        // Built with everything on disk, then opened again with another budget (the budget is not part of the key).
        using (var built = Cache(new FeatureCacheSettings { Folder = folder, BudgetBytes = 0 }))
            Assert.Equal(0, built.ResidentBytes);
        long budget = budgetRecords * record;
        using var c = Cache(new FeatureCacheSettings { Folder = folder, BudgetBytes = budget });
        Assert.True(c.Reused);
        Assert.True(c.ResidentBytes <= budget, $"{c.ResidentBytes} bytes in memory, budget {budget}");
        Assert.Equal(Math.Min(budgetRecords, Views * Images), c.ResidentRecords);
        Assert.Equal(budgetRecords >= Views * Images ? 0 : c.Bytes - c.ResidentBytes, c.SpilledBytes);
        Assert.True(All(c).AsSpan().SequenceEqual(Reference.Value));
    }

    [Fact]
    public void KeyFollowsWeightsFrontierPipelineSeedViewsPrecisionAndImages()
    {
        var prefix = Prefix.Value;
        var data = Images8();
        FeatureCacheKey Key(ComputeGraph? g = null, ImageDataset? d = null, TransformPipeline? p = null, int views = Views, ulong seed = 0, FeaturePrecision precision = FeaturePrecision.Fp32) =>
            FeatureCacheKey.Compute(g ?? prefix, d ?? data, p ?? Light, views, seed, precision);
        var key = Key();
        Assert.Equal(key, Key());
        Assert.Equal(64, key.Hex.Length);

        var weight = prefix.Parameters.First(p => p.Name.Contains("fire5", StringComparison.Ordinal)).Value.Span;
        float saved = weight[7];
        weight[7] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(saved) ^ 1);
        try { Assert.NotEqual(key, Key()); }
        finally { weight[7] = saved; }
        Assert.Equal(key, Key());

        var earlier = prefix.Find("fire8/concat_1")!;
        Assert.NotEqual(key, Key(g: prefix.Subgraph(0, earlier.Producer!.Index + 1, [earlier])));
        Assert.NotEqual(key, Key(p: AugmentLevels.Get("none", 224, Preprocessing.CaffeImageNet)));
        Assert.NotEqual(key, Key(p: AugmentLevels.Get("light", 224, Preprocessing.TorchvisionImageNet)));
        Assert.NotEqual(key, Key(seed: 1));
        Assert.NotEqual(key, Key(views: Views + 1));
        Assert.NotEqual(key, Key(precision: FeaturePrecision.Fp16));
        Assert.NotEqual(key, Key(d: new SubsetDataset(data, Enumerable.Range(0, Images - 1).ToArray())));

        // A touched image file is another image.
        var copy = TempFolder();
        foreach (var c in data.Classes.Names) Directory.CreateDirectory(Path.Combine(copy, c));
        for (int i = 0; i < data.Count; i++)
        {
            var from = data.GetSource(i).Path!;
            File.Copy(from, Path.Combine(copy, data.Classes.Names[data.GetLabel(i)], Path.GetFileName(from)));
        }
        var copied = ImageFolderDataset.FromFolder(copy);
        var before = Key(d: copied);
        Assert.Equal(before, Key(d: copied));
        File.SetLastWriteTimeUtc(copied.PathOf(2), File.GetLastWriteTimeUtc(copied.PathOf(2)).AddSeconds(-10));
        Assert.NotEqual(before, Key(d: copied));

        // In-memory (IDX/CSV) samples are identified by their pixels.
        var pixels = new byte[4 * 5 * 5];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7);
        var raw = new RawPixelDataset(pixels, [0, 1, 0, 1], 5, 5, 1, new ClassMap(["a", "b"]));
        var rawKey = Key(d: raw);
        pixels[60]++;
        Assert.NotEqual(rawKey, Key(d: raw));
    }

    [Fact]
    public void SpillFileIsReusedUnderItsKeyAndRebuiltWhenDamaged()
    {
        var folder = TempFolder();
        var settings = new FeatureCacheSettings { Folder = folder, BudgetBytes = 0 };
        string path;
        using (var built = Cache(settings))
        {
            Assert.False(built.Reused);
            path = built.FilePath!;
        }
        using (var again = Cache(settings))
            Assert.True(again.Reused);

        // A run killed while writing leaves only a temporary file: it is never read, and it is cleaned up.
        var abandoned = path + ".tmp-999999999";
        File.Move(path, abandoned);
        using (var afterKill = Cache(settings))
        {
            Assert.False(afterKill.Reused);
            Assert.False(File.Exists(abandoned));
            Assert.Equal(path, afterKill.FilePath);
        }

        // Truncated, damaged header, or another key under this name: never trusted, rebuilt to the same features.
        var damages = new (string Expect, Action Damage)[]
        {
            ("truncated", () => { using var f = File.OpenWrite(path); f.SetLength(f.Length - 1); }),
            ("checksum", () => { using var f = File.OpenWrite(path); f.Position = 100; f.WriteByte(0xEE); }),
            ("another key", () => File.Copy(OtherKeyFile(folder), path, overwrite: true)),
        };
        foreach (var (expect, damage) in damages)
        {
            damage();
            var log = new StringWriter();
            using var rebuilt = Cache(settings, log);
            Assert.False(rebuilt.Reused, expect);
            Assert.Contains("not trusting", log.ToString());
            Assert.Contains(expect, log.ToString());
            Assert.Equal(path, rebuilt.FilePath);
            Assert.True(All(rebuilt).AsSpan().SequenceEqual(Reference.Value), expect);
        }
    }

    [Fact]
    public void SecondRunReusesTheSpilledCacheAndATruncatedOneIsRebuilt()
    {
        var output = TempFolder();
        // 1 MB: three validation records in memory, everything else read from RUN_DIR/cache.
        var options = new FineTuneOptions
        {
            Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = SharedAssets.Dataset("hymenoptera_data"), Out = output,
            Epochs = 2, CacheViews = 2, Augment = "light", LimitTrain = 24, LimitVal = 16, CacheBudgetMb = 1, Batch = 8,
        };
        (string Log, string[] Metrics) Run()
        {
            var log = new StringWriter();
            var summary = new FineTuneJob(options, log).Run();
            Assert.True(summary.FeatureCache, log.ToString());
            // Every column but the epoch's seconds.
            var metrics = File.ReadAllLines(Path.Combine(output, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();
            return (log.ToString(), metrics);
        }

        var first = Run();
        Assert.Contains("feature cache train: built", first.Log);
        Assert.Contains("feature cache val: built", first.Log);
        Assert.Contains("read from disk", first.Log);
        Assert.Equal(3, first.Metrics.Length);

        var second = Run();
        Assert.Contains("feature cache train: reused", second.Log);
        Assert.Contains("feature cache val: reused", second.Log);
        Assert.DoesNotContain("built", second.Log);
        Assert.Equal(first.Metrics, second.Metrics);

        var trainFile = Directory.GetFiles(Path.Combine(output, "cache"), "train-*.features").Single();
        using (var f = File.OpenWrite(trainFile)) f.SetLength(f.Length / 2);
        var third = Run();
        Assert.Contains("not trusting", third.Log);
        Assert.Contains("truncated", third.Log);
        Assert.Contains("feature cache train: built", third.Log);
        Assert.Contains("feature cache val: reused", third.Log);
        Assert.Equal(first.Metrics, third.Metrics);
    }

    [Fact]
    public void TwoPhaseCachesEachFreezePlanUnderItsOwnKey()
    {
        var output = TempFolder();
        // Phase 2 (everything but the frozen stem trains) has another frontier than phase 1 (head only).
        var options = new FineTuneOptions
        {
            Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = SharedAssets.Dataset("hymenoptera_data"), Out = output,
            Recipe = "two-phase", Freeze = ["conv1_*", "fire2/*"], Epochs = 2, CacheViews = 1, Augment = "light",
            LimitTrain = 16, LimitVal = 16, CacheBudgetMb = 0, Batch = 8,
        };
        (string Log, string[] Metrics) Run()
        {
            var log = new StringWriter();
            new FineTuneJob(options, log).Run();
            var metrics = File.ReadAllLines(Path.Combine(output, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();
            return (log.ToString(), metrics);
        }
        static string[] Lines(string log, string start) => log.Split('\n').Where(l => l.StartsWith(start, StringComparison.Ordinal)).ToArray();

        var first = Run();
        var frontiers = Lines(first.Log, "feature cache: frontier");
        Assert.Equal(2, frontiers.Length);
        Assert.NotEqual(frontiers[0][..frontiers[0].IndexOf(']')], frontiers[1][..frontiers[1].IndexOf(']')]);
        Assert.Equal(2, Lines(first.Log, "feature cache train: built").Length);
        Assert.Empty(Lines(first.Log, "feature cache train: reused"));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(output, "cache"), "*.features").Length);

        // Run again (as a resumed run would): each phase finds its own cache.
        var second = Run();
        Assert.Equal(2, Lines(second.Log, "feature cache train: reused").Length);
        Assert.Equal(2, Lines(second.Log, "feature cache val: reused").Length);
        Assert.Empty(Lines(second.Log, "feature cache train: built"));
        Assert.Equal(first.Metrics, second.Metrics);
    }

    /// <summary>A complete cache file of a one-image dataset (another key, another layout).</summary>
    string OtherKeyFile(string folder)
    {
        var other = Path.Combine(folder, "other");
        using var c = FeatureCache.GetOrBuild("train", Prefix.Value, new SubsetDataset(Images8(), [0]), Light, 1,
            new FeatureCacheSettings { Folder = other, BudgetBytes = 0, Batch = 1, Threads = 1 });
        return c.FilePath!;
    }
}
