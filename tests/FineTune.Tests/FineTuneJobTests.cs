using System.Text.Json;
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
            var log = new StringWriter();
            var summary = new FineTuneJob(new FineTuneOptions
            {
                Model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), Data = data, Out = Path.Combine(data, "run"),
                Epochs = 2, CacheViews = 2, Augment = "light", HeadDropout = 0, Threads = 2,
            }, log).Run();
            Assert.Equal(25, summary.TrainImages);
            Assert.Equal(5, summary.SkippedFiles);
            foreach (var path in truncated) Assert.Contains($"skipped {path}: the image data is truncated", log.ToString());
            Assert.True(File.Exists(Path.Combine(data, "run", "tuned.onnx")));
        }
        finally { Directory.Delete(data, true); }
    }

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
