using System.Globalization;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary><c>transferkit tune</c> end to end: a short search on a Fashion-MNIST subset, its files, and best.json run back through finetune.</summary>
[Collection("Console")]
public class TuneCliTests
{
    const int Trials = 4;
    const int Epochs = 2;
    /// <summary>Re-running the best configuration repeats its validation accuracy up to this (a few of the 200 validation images).</summary>
    const double ReproductionTolerance = 0.02;

    static string[] Common(string output) =>
    [
        "tune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", SharedAssets.Dataset("fashion-mnist"), "--out", output,
        "--limit-train", "500", "--limit-val", "200", "--epochs", Epochs.ToString(CultureInfo.InvariantCulture),
    ];

    [Fact]
    public void TuneWritesTrialsAndABestConfigThatFinetuneRuns()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("transferkit-tune-").FullName, "tune");
        var (code, stdout, stderr) = CliTests.Run([.. Common(output), "--trials", Trials.ToString(CultureInfo.InvariantCulture), "--sampler", "tpe",
            "--lr-range", "1e-3:1e-1", "--batch-sizes", "32,64", "--augment-levels", "none,light", "--freeze-depths", "0,1", "--early-stop", "halving", "--seed", "3"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");

        // The table: a header and one row per trial.
        foreach (var column in new[] { "trial", "lr", "weight-decay", "batch", "augment", "freeze-depth", "val acc", "epochs", "pruned", "seconds" })
            Assert.Contains(column, stdout);

        var lines = File.ReadAllLines(Path.Combine(output, "trials.csv"));
        Assert.Equal(Trials + 1, lines.Length);
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new Xunit.Sdk.XunitException($"no column {name}: {lines[0]}");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        foreach (var r in rows)
        {
            var status = r[Col("status")];
            int epochsRun = int.Parse(r[Col("epochs_run")], CultureInfo.InvariantCulture);
            Assert.True(status is "complete" or "pruned", string.Join(",", r));
            Assert.Equal(status == "complete", epochsRun == Epochs);
            Assert.InRange(double.Parse(r[Col("lr")], CultureInfo.InvariantCulture), 1e-3, 1e-1);
            Assert.Contains(r[Col("batch")], new[] { "32", "64" });
            Assert.Contains(r[Col("freeze_depth")], new[] { "0", "1" });
            var folder = r[Col("folder")];
            Assert.Equal(TransferKit.FineTune.Tuning.Tuner.TrialFolderName(int.Parse(r[Col("trial")], CultureInfo.InvariantCulture)), Path.GetFileName(folder));
            foreach (var f in new[] { "config.json", "train.log", "metrics.csv", "summary.json", "tuned.onnx" })
                Assert.True(File.Exists(Path.Combine(folder, f)), $"{folder}/{f}");
            Assert.Equal(epochsRun + 1, File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Length);
            // Each trial's config.json is what ran.
            var trialConfig = FineTuneConfigFile.Read(Path.Combine(folder, "config.json"));
            Assert.Equal(int.Parse(r[Col("batch")], CultureInfo.InvariantCulture), trialConfig.Batch);
            Assert.Equal(r[Col("freeze_depth")] == "0" ? [] : ["Convolution110", "Plus112"], trialConfig.Unfreeze);
        }

        // best.json is the best complete trial's configuration, readable by finetune's config reader.
        var best = rows.Where(r => r[Col("status")] == "complete").OrderByDescending(r => double.Parse(r[Col("val_accuracy")], CultureInfo.InvariantCulture))
            .ThenBy(r => double.Parse(r[Col("val_loss")], CultureInfo.InvariantCulture)).First();
        var bestJson = Path.Combine(output, "best.json");
        var options = FineTuneConfigFile.Read(bestJson);
        Assert.Equal(double.Parse(best[Col("lr")], CultureInfo.InvariantCulture), options.Lr, 1e-6);
        Assert.Equal(int.Parse(best[Col("batch")], CultureInfo.InvariantCulture), options.Batch);
        Assert.Equal(best[Col("augment")], options.Augment);
        Assert.Equal(Epochs, options.Epochs);
        Assert.Equal(500, options.LimitTrain);
        Assert.Equal(Path.Combine(Path.GetFullPath(output), "best"), options.Out);
        Assert.Empty(Directory.GetFiles(output, "*.tmp-*"));

        // finetune --config best.json repeats the best trial.
        var (ftCode, ftOut, ftErr) = CliTests.Run("finetune", "--config", bestJson);
        Assert.True(ftCode == 0, $"exit {ftCode}\n{ftOut}\n{ftErr}");
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(options.Out, "summary.json")));
        Assert.Equal(double.Parse(best[Col("val_accuracy")], CultureInfo.InvariantCulture), summary.RootElement.GetProperty("val_accuracy").GetDouble(), ReproductionTolerance);

        // A second search into the same folder is refused rather than mixing trials.
        var (again, _, againErr) = CliTests.Run([.. Common(output), "--trials", "1"]);
        Assert.Equal(2, again);
        Assert.Contains("trial folders", againErr);
    }

    [Fact]
    public void BadSearchSettingsFailBeforeTraining()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("transferkit-tune-bad-").FullName, "tune");
        var (depth, _, depthErr) = CliTests.Run([.. Common(output), "--freeze-depths", "0,5"]);
        Assert.Equal(2, depth);
        Assert.Contains("only 2 weighted layers", depthErr);
        var (sampler, _, samplerErr) = CliTests.Run([.. Common(output), "--sampler", "annealing"]);
        Assert.Equal(2, sampler);
        Assert.Contains("annealing", samplerErr);
        var (range, _, rangeErr) = CliTests.Run([.. Common(output), "--lr-range", "1e-1:1e-4"]);
        Assert.Equal(2, range);
        Assert.Contains("lr", rangeErr);
        Assert.False(Directory.Exists(Path.Combine(output, "trial-000")));
    }
}
