using System.Text.RegularExpressions;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Checkpoints of the fine-tune job in process: a run stopped after an epoch and resumed ends bit-identical to an
/// uninterrupted one (feature-cache path); a diverging run keeps its last good checkpoint; resumed options must agree;
/// batch-norm running statistics travel with the parameters.
/// </summary>
public class CheckpointResumeTests
{
    /// <summary>Thrown by <see cref="CrashingLog"/>: the process "dies" right after the line that matched.</summary>
    sealed class SimulatedCrash : Exception;

    /// <summary>A log that fails the run once a line matches (the job logs an epoch after writing its checkpoint).</summary>
    sealed class CrashingLog(string pattern) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value != null && Regex.IsMatch(value, pattern)) throw new SimulatedCrash();
        }
    }

    static FineTuneOptions Options(string data, string output) => new()
    {
        Model = SharedAssets.Model("mnist-8.onnx"), Data = data, Out = output, Epochs = 4, Recipe = "head", Augment = "light", Seed = 3,
    };

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-run-").FullName, "run");

    [Fact]
    public void ACachedHeadRunStoppedAfterEpochTwoResumesToIdenticalWeights()
    {
        var data = MnistFolder.Create(60, 3, 5, 8);
        var reference = NewRunFolder();
        var straight = new FineTuneJob(Options(data, reference), TextWriter.Null).Run();
        Assert.True(straight.FeatureCache);

        var stopped = NewRunFolder();
        Assert.Throws<SimulatedCrash>(() => new FineTuneJob(Options(data, stopped), new CrashingLog(@"^epoch\s+2/")).Run());
        Assert.False(File.Exists(Path.Combine(stopped, "tuned.onnx")));
        var saved = RunCheckpoint.Load(RunCheckpoint.LastPath(stopped));
        Assert.Equal(new RunPosition(0, 2, 2, 0, 2, saved.Position.DropoutStep), saved.Position);
        Assert.True(saved.Position.DropoutStep > 0);
        Assert.Equal(saved.Position.DropoutStep, saved.Optimizer!.StepCount);
        Assert.Equal(2, saved.Metrics.Length);
        Assert.Equal(["head"], saved.Phases);
        Assert.Equal(["3", "5", "8"], saved.Classes);
        Assert.Equal(2, saved.Freeze.Trainable.Length);   // the new MatMul head's weight and bias
        Assert.Equal(Path.GetFullPath(stopped), saved.Options.Out);
        Assert.True(Path.IsPathFullyQualified(saved.Options.Model) && Path.IsPathFullyQualified(saved.Options.Data));

        // The run folder may move between the stop and the resume.
        var moved = stopped + "-moved";
        Directory.Move(stopped, moved);
        var log = new StringWriter();
        var resumed = new FineTuneJob(ResumeOptions.Load(moved), log).Run();
        Assert.Contains("resuming", log.ToString());
        Assert.DoesNotContain("epoch   1/", log.ToString());
        Assert.Equal(straight.EpochsRun, resumed.EpochsRun);
        Assert.Equal(straight.BestEpoch, resumed.BestEpoch);
        Assert.Equal(straight.ValAccuracy, resumed.ValAccuracy);
        Assert.Equal(Path.Combine(moved, "tuned.onnx"), resumed.TunedModel);
        RunFiles.AssertSameRun(reference, moved);

        // Resuming a finished run only exports again, to the same weights.
        var again = new FineTuneJob(ResumeOptions.Load(reference), TextWriter.Null).Run();
        Assert.Equal(straight.EpochsRun, again.EpochsRun);
        RunFiles.AssertSameRun(moved, reference);
    }

    /// <summary>
    /// Bad entries added to an MNIST folder: path relative to the data folder → exact reason (null: whatever the
    /// decoder says, asked in the test).
    /// </summary>
    static Dictionary<string, string> AddBadEntries(string data)
    {
        var good = File.ReadAllBytes(Directory.GetFiles(Path.Combine(data, "3")).Order(StringComparer.Ordinal).First());
        File.WriteAllBytes(Path.Combine(data, "3", "cut.png"), good[..(good.Length / 2)]);
        File.WriteAllBytes(Path.Combine(data, "5", "empty.png"), []);
        var jpeg = Augment.Imaging.ImageIO.EncodeJpeg(new float[3 * 16 * 16], 3, 16, 16);
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC0]);
        jpeg[sof + 5] = 0xFF; jpeg[sof + 6] = 0xDC; jpeg[sof + 7] = 0xFF; jpeg[sof + 8] = 0xDC; // 65500×65500
        File.WriteAllBytes(Path.Combine(data, "8", "huge.jpg"), jpeg);
        File.WriteAllBytes(Path.Combine(data, "5", "scan.tiff"), [0x49, 0x49, 0x2A, 0x00]);
        Directory.CreateDirectory(Path.Combine(data, "8", "x.jpg"));
        File.WriteAllBytes(Path.Combine(data, "8", ".DS_Store"), [0, 0, 0, 1]);
        return new Dictionary<string, string>
        {
            [Path.Combine("3", "cut.png")] = DecodeReason(Path.Combine(data, "3", "cut.png")),
            [Path.Combine("5", "empty.png")] = "the file is empty (0 bytes)",
            [Path.Combine("5", "scan.tiff")] = "unsupported format .tiff (JPEG, PNG, GIF, BMP, WebP or TGA expected)",
            [Path.Combine("8", "huge.jpg")] = "the header declares 65500×65500 = 4,290,250,000 pixels, beyond the 100,000,000-pixel limit; refused before decoding",
            [Path.Combine("8", "x.jpg")] = "a directory, not an image file (the files inside it are still read)",
        };
    }

    /// <summary>Why the decoder refuses a file.</summary>
    static string DecodeReason(string path)
    {
        var e = Assert.Throws<Augment.Imaging.ImageDecodeException>(() => Augment.Imaging.EncodedImage.Open(path).Decode().Dispose());
        return e.Reason;
    }

    /// <summary>The skipped list of a run's summary.json as (path, reason) pairs.</summary>
    static List<(string, string)> SummarySkipped(string runDir)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")));
        Assert.Equal(json.RootElement.GetProperty("skipped").GetArrayLength(), json.RootElement.GetProperty("skipped_files").GetInt32());
        return json.RootElement.GetProperty("skipped").EnumerateArray()
            .Select(e => (e.GetProperty("path").GetString()!, e.GetProperty("reason").GetString()!)).ToList();
    }

    [Theory]
    [InlineData(1, 0)]     // feature cache spilled to its file (budget 0), so the resumed run reuses it and reads the reasons again
    [InlineData(0, 4096)]  // no feature cache: the loaders meet the bad files every epoch
    public void SkippedFilesAndTheirReasonsAreListedAndCarriedAcrossAResume(int cacheViews, int cacheBudgetMb)
    {
        var data = MnistFolder.Create(20, 3, 5, 8);
        var expected = AddBadEntries(data).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();
        FineTuneOptions Opts(string output) => Options(data, output) with { CacheViews = cacheViews, CacheBudgetMb = cacheBudgetMb, Threads = 2 };

        var reference = NewRunFolder();
        var log = new StringWriter();
        var straight = new FineTuneJob(Opts(reference), log).Run();
        Assert.Equal(cacheViews > 0, straight.FeatureCache);
        Assert.Equal(expected, SummarySkipped(reference));
        Assert.Equal(expected.Count, straight.SkippedFiles);
        Assert.Equal(expected, straight.Skipped.Select(f => f.RelativeTo(data)).Select(f => (f.Path, f.Reason)).ToList());
        Assert.Contains($"{expected.Count} files skipped (paths relative to {data}):", log.ToString());
        foreach (var (path, reason) in expected) Assert.Contains($"\n  {path}: {reason}\n", log.ToString());
        var html = File.ReadAllText(Path.Combine(reference, "report.html"));
        Assert.Contains("<h2>Skipped files</h2>", html);
        foreach (var (path, reason) in expected)
            Assert.Contains($"<tr><td>{System.Net.WebUtility.HtmlEncode(path)}</td><td>{System.Net.WebUtility.HtmlEncode(reason)}</td></tr>", html);

        var stopped = NewRunFolder();
        Assert.Throws<SimulatedCrash>(() => new FineTuneJob(Opts(stopped), new CrashingLog(@"^epoch\s+2/")).Run());
        var saved = RunCheckpoint.Load(RunCheckpoint.LastPath(stopped));
        Assert.Equal(expected, saved.Skipped.Select(f => f.RelativeTo(data)).Select(f => (f.Path, f.Reason)).ToList());
        var resumedLog = new StringWriter();
        var resumed = new FineTuneJob(ResumeOptions.Load(stopped), resumedLog).Run();
        Assert.Contains("resuming", resumedLog.ToString());
        if (cacheBudgetMb == 0) Assert.Contains("feature cache train: reused", resumedLog.ToString());
        Assert.Equal(expected, SummarySkipped(stopped));
        Assert.Equal(straight.SkippedFiles, resumed.SkippedFiles);
        foreach (var (path, reason) in expected) Assert.Contains($"\n  {path}: {reason}\n", resumedLog.ToString());
    }

    [Fact]
    public void AResumedRunRefusesOtherOptionsButAcceptsOtherThreads()
    {
        var data = MnistFolder.Create(20, 0, 1);
        var run = NewRunFolder();
        new FineTuneJob(Options(data, run) with { Epochs = 1 }, TextWriter.Null).Run();
        var saved = ResumeOptions.Load(run);
        var e = Assert.Throws<ArgumentException>(() => new FineTuneJob(saved with { Lr = 0.5f, Augment = "none" }, TextWriter.Null).Run());
        Assert.Contains("--lr 0.5", e.Message);
        Assert.Contains("--augment none", e.Message);
        Assert.DoesNotContain("--epochs", e.Message);
        Assert.Empty(ResumeOptions.Conflicts(saved with { Threads = 1 }, saved));
        // Relative and absolute paths to the same files agree.
        Assert.Empty(ResumeOptions.Conflicts(saved with { Model = Path.GetRelativePath(Environment.CurrentDirectory, saved.Model) }, saved));
        var missing = Assert.Throws<FileNotFoundException>(() => ResumeOptions.Load(data));
        Assert.Contains("no checkpoint to resume", missing.Message);
    }

    [Fact]
    public void ADivergingRunStopsAndKeepsTheLastGoodCheckpoint()
    {
        // Adam moves each weight by about lr per step whatever the gradient (without weight decay, which would pull it back),
        // and one-cycle raises lr from 1/25 of it:
        // at this rate the logits stay finite through epoch 1 and overflow once the rate has grown.
        var data = MnistFolder.Create(100, 0, 1, 2);
        var run = NewRunFolder();
        var e = Assert.Throws<ArithmeticException>(() => new FineTuneJob(Options(data, run) with
        {
            Epochs = 10, Optimizer = "adam", Schedule = "onecycle", Lr = 2e36f, Augment = "default", Seed = 0, WeightDecay = 0,
        }, TextWriter.Null).Run());
        var m = Regex.Match(e.Message, @"became (NaN|-?Infinity|-?∞) at epoch (\d+)");
        Assert.True(m.Success, e.Message);
        int failed = int.Parse(m.Groups[2].Value);
        Assert.True(failed >= 2, $"the loss diverged in epoch {failed}, before any checkpoint: {e.Message}");
        Assert.Contains("last good checkpoint", e.Message);
        Assert.Contains(RunCheckpoint.LastPath(run), e.Message);

        var last = RunCheckpoint.Load(RunCheckpoint.LastPath(run));
        Assert.Equal(failed - 1, last.Position.EpochsDone);
        Assert.Equal(failed - 1, last.Metrics.Length);
        Assert.All(last.File!.ReadParameters().Values, t => Assert.True(t.Span.ToArray().All(float.IsFinite)));
        Assert.False(File.Exists(Path.Combine(run, "tuned.onnx")));
    }

    [Fact]
    public void BatchNormRunningStatisticsAreSavedAndRestored()
    {
        var model = OnnxImporter.Import(SharedAssets.Model("light/light_shufflenet.onnx"));
        var bnStats = model.Graph.Nodes.Where(n => n.Op is BatchNormalizationOp).SelectMany(n => new[] { n.Inputs[3].Parameter!, n.Inputs[4].Parameter! }).ToList();
        Assert.NotEmpty(bnStats);
        var path = Path.Combine(Directory.CreateTempSubdirectory("transferkit-bn-").FullName, "bn" + CheckpointFile.Extension);
        var file = new CheckpointFile();
        file.AddParameters(model.Graph.Parameters);
        file.Save(path);
        var expected = bnStats.Select(p => p.Value.Span.ToArray()).ToList();
        foreach (var p in bnStats) p.Value.Span.Fill(-7f);   // what training-mode batch norm would have moved
        CheckpointFile.Load(path).RestoreParameters(model.Graph.Parameters);
        for (int i = 0; i < bnStats.Count; i++) Assert.Equal(expected[i], bnStats[i].Value.Span.ToArray());
    }
}
