using System.Text.Json;
using TransferKit.Augment.Loading;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>Short versions of the fine-tune job (a couple of epochs) that must beat chance clearly.</summary>
public class FineTuneJobTests
{
    [Fact]
    public void SqueezeNetHeadOnHymenopteraWithTheFeatureCache()
    {
        var output = Directory.CreateTempSubdirectory("transferkit-run-").FullName;
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"),
            Data = SharedAssets.Dataset("hymenoptera_data"),
            Out = output, Epochs = 3, CacheViews = 1, Augment = "light", HeadDropout = 0,
        }, log).Run();
        Assert.Contains("dropout 0 before it", log.ToString());
        // Chance is 54 % (83 bees of 153).
        Assert.True(summary.ValAccuracy > 0.75, $"validation accuracy {summary.ValAccuracy}\n{log}");
        Assert.True(summary.FeatureCache);
        Assert.Equal(245, summary.TrainImages);
        Assert.Equal(153, summary.ValImages);
        Assert.Equal(["ants", "bees"], summary.Classes);
        Assert.True(summary.ExportParityMaxAbs < 1e-4);
        foreach (var f in new[] { "tuned.onnx", "metrics.csv", "summary.json", "classes.json" })
            Assert.True(File.Exists(Path.Combine(output, f)), f);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(output, "metrics.csv")).Length);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        foreach (var key in new[] { "val_accuracy", "best_epoch", "epochs_run", "wall_seconds", "train_images", "val_images", "classes", "skipped_files", "export_parity_max_abs" })
            Assert.True(json.RootElement.TryGetProperty(key, out _), key);
        var tuned = OnnxImporter.Import(Path.Combine(output, "tuned.onnx"));
        Assert.Equal(2, tuned.Outputs[0].Dims[1]);
        Assert.Contains("ants", tuned.Metadata["labels"]);
    }

    /// <summary>Cut points of the five truncated photos (the case of an intermittent crash on the old native decoder).</summary>
    static readonly int[] TruncationCuts = [600, 2000, 23353, 42035, 46704];

    [Fact]
    public void TruncatedPhotosAreSkippedAndReportedAndTheJobFinishes()
    {
        var data = Directory.CreateTempSubdirectory("transferkit-truncated-").FullName;
        var truncated = new List<string>();
        try
        {
            foreach (var split in new[] { "train", "val" })
            foreach (var cls in new[] { "ants", "bees" })
            {
                var dir = Directory.CreateDirectory(Path.Combine(data, split, cls)).FullName;
                var photos = Directory.GetFiles(SharedAssets.Dataset($"hymenoptera_data/{split}/{cls}"), "*.jpg").Order(StringComparer.Ordinal)
                    .Where(f => new FileInfo(f).Length > TruncationCuts.Max() + 1).Take(split == "train" ? 10 : 4).ToList();
                foreach (var p in photos) File.Copy(p, Path.Combine(dir, Path.GetFileName(p)));
            }
            var donors = Directory.GetFiles(Path.Combine(data, "train", "bees")).Order(StringComparer.Ordinal).ToArray();
            for (int i = 0; i < TruncationCuts.Length; i++)
            {
                var path = Path.Combine(data, "train", i % 2 == 0 ? "ants" : "bees", $"cut-at-{TruncationCuts[i]}.jpg");
                File.WriteAllBytes(path, File.ReadAllBytes(donors[i])[..TruncationCuts[i]]);
                truncated.Add(path);
            }
            // Not images by name: listed as skipped too (the validation folder's, beside the training ones).
            File.WriteAllBytes(Path.Combine(data, "val", "ants", "scan.tiff"), [0x49, 0x49, 0x2A, 0x00]);
            Directory.CreateDirectory(Path.Combine(data, "train", "bees", "x.jpg"));
            var log = new StringWriter();
            var summary = new FineTuneJob(new FineTuneOptions
            {
                Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = data, Out = Path.Combine(data, "run"),
                Epochs = 2, CacheViews = 2, Augment = "light", HeadDropout = 0, Threads = 2,
            }, log).Run();
            Assert.Equal(25, summary.TrainImages);
            Assert.Equal(7, summary.SkippedFiles);
            foreach (var path in truncated) Assert.Contains($"skipped {path}: the image data is truncated", log.ToString());
            var expected = new List<(string Path, string Reason)>(truncated.Select(p => (Path.GetRelativePath(data, p), Skipped(summary, p))))
            {
                (Path.Combine("train", "bees", "x.jpg"), "a directory, not an image file (the files inside it are still read)"),
                (Path.Combine("val", "ants", "scan.tiff"), "unsupported format .tiff (JPEG, PNG, GIF, BMP, WebP or TGA expected)"),
            };
            expected.Sort((x, y) => string.CompareOrdinal(x.Path, y.Path));
            Assert.All(truncated, p => Assert.StartsWith("the image data is truncated", Skipped(summary, p)));
            using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(data, "run", "summary.json"))))
            {
                Assert.Equal(7, json.RootElement.GetProperty("skipped_files").GetInt32());
                Assert.Equal(expected, json.RootElement.GetProperty("skipped").EnumerateArray()
                    .Select(e => (e.GetProperty("path").GetString()!, e.GetProperty("reason").GetString()!)).ToList());
            }
            // The console: the total, then the first ten (all seven here), relative to the data folder.
            var text = log.ToString().ReplaceLineEndings("\n");
            Assert.Contains($"7 files skipped (paths relative to {data}):\n" + string.Concat(expected.Select(e => $"  {e.Path}: {e.Reason}\n")), text);
            var html = File.ReadAllText(Path.Combine(data, "run", "report.html"));
            foreach (var (path, reason) in expected)
                Assert.Contains($"<tr><td>{System.Net.WebUtility.HtmlEncode(path)}</td><td>{System.Net.WebUtility.HtmlEncode(reason)}</td></tr>", html);
            Assert.True(File.Exists(Path.Combine(data, "run", "tuned.onnx")));
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public void ManySkippedFilesShowTheFirstTenOnTheConsoleAndAllInTheSummary()
    {
        // train/ and val/ (the same images), the bad files all in train/.
        var data = Directory.CreateTempSubdirectory("transferkit-many-skipped-").FullName;
        Directory.Move(MnistFolder.Create(20, 3, 5), Path.Combine(data, "train"));
        Directory.Move(MnistFolder.Create(10, 3, 5), Path.Combine(data, "val"));
        var bad = Enumerable.Range(0, 13).Select(i => Path.Combine("train", i % 2 == 0 ? "3" : "5", $"empty-{i:D2}.png")).Order(StringComparer.Ordinal).ToList();
        foreach (var f in bad) File.WriteAllBytes(Path.Combine(data, f), []);
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("mnist-8.onnx"), Data = data, Out = Path.Combine(data, "run"), Epochs = 1, Recipe = "head", Augment = "none", Threads = 2,
        }, log).Run();
        var text = log.ToString().ReplaceLineEndings("\n");
        Assert.Equal(13, summary.SkippedFiles);
        // Live: the first ten as the cache meets them, then one line for the rest.
        Assert.Equal(SkippedFile.ConsoleLimit, text.Split('\n').Count(l => l.StartsWith("feature cache train: skipped ")));
        Assert.Single(text.Split('\n'), l => l == "feature cache train: more files skipped; the run lists them all when it ends (summary.json, report.html)");
        // At the end: the total, the first ten in path order, how many more.
        Assert.Contains($"13 files skipped (paths relative to {data}):\n" + string.Concat(bad.Take(10).Select(f => $"  {f}: the file is empty (0 bytes)\n")) + "  … and 3 more\n", text);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(data, "run", "summary.json")));
        Assert.Equal(13, json.RootElement.GetProperty("skipped_files").GetInt32());
        Assert.Equal(bad, json.RootElement.GetProperty("skipped").EnumerateArray().Select(e => e.GetProperty("path").GetString()!).ToList());
        Assert.All(json.RootElement.GetProperty("skipped").EnumerateArray(), e => Assert.Equal("the file is empty (0 bytes)", e.GetProperty("reason").GetString()));
        Directory.Delete(data, true);
    }

    /// <summary>The reason the summary gives for <paramref name="path"/>.</summary>
    static string Skipped(FineTuneSummary summary, string path) => Assert.Single(summary.Skipped, s => s.Path == path).Reason;

    [Fact]
    public void OneClassIsRefusedBeforeTraining()
    {
        var data = Directory.CreateTempSubdirectory("transferkit-oneclass-").FullName;
        var ants = Path.Combine(data, "ants");
        Directory.CreateDirectory(ants);
        foreach (var f in Directory.GetFiles(SharedAssets.Dataset("hymenoptera_data/train/ants"), "*.jpg").Take(5)) File.Copy(f, Path.Combine(ants, Path.GetFileName(f)));
        var e = Assert.Throws<ArgumentException>(() => new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = data, Out = Path.Combine(data, "run"),
        }, TextWriter.Null).Run());
        Assert.Contains("at least two", e.Message);
    }

    [Fact]
    public void Mnist8FullyFineTunedOnAFashionMnistSubset()
    {
        var output = Directory.CreateTempSubdirectory("transferkit-fashion-").FullName;
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("mnist-8.onnx"), Data = SharedAssets.Dataset("fashion-mnist"), Out = output,
            Recipe = "full", Epochs = 2, Augment = "none", Optimizer = "adamw", Lr = 3e-3f, Batch = 64,
            LimitTrain = 4000, LimitVal = 1000,
        }, log).Run();
        // Ten balanced classes: chance is 10 %.
        Assert.True(summary.ValAccuracy > 0.6, $"validation accuracy {summary.ValAccuracy}\n{log}");
        Assert.False(summary.FeatureCache);
        Assert.Equal(4000, summary.TrainImages);
        Assert.Equal(1000, summary.ValImages);
        Assert.Equal(10, summary.Classes.Length);
        Assert.True(File.Exists(Path.Combine(output, "tuned.onnx")));
    }

    [Fact]
    public void TwoPhaseTrainsTheHeadThenEverything()
    {
        var output = Directory.CreateTempSubdirectory("transferkit-two-phase-").FullName;
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = SharedAssets.Dataset("hymenoptera_data"), Out = output,
            Recipe = "two-phase", Epochs = 2, CacheViews = 1, Augment = "light", LimitTrain = 48, LimitVal = 48,
        }, log).Run();
        var text = log.ToString();
        Assert.Contains("phase head", text);
        Assert.Contains("phase full", text);
        Assert.Equal(2, summary.EpochsRun);
        // 24 ants and 24 bees: chance is 50 %.
        Assert.True(summary.ValAccuracy > 0.7, $"validation accuracy {summary.ValAccuracy}\n{text}");
    }
}
