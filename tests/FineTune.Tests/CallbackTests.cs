using System.Globalization;
using System.Text.RegularExpressions;
using TransferKit.FineTune.Callbacks;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The training callbacks: the monitor's rule of "better", the order callbacks run in and what they see, early
/// stopping by each monitor (and after a resume), and the best checkpoint following the monitor.
/// </summary>
[Collection("Console")]
public class CallbackTests
{
    static EpochMetrics M(int epoch, double valLoss, double valAcc, double trainLoss = 1, double trainAcc = 0.5) =>
        new(epoch, trainLoss, trainAcc, valLoss, valAcc, 1e-3, 1);

    static readonly Lazy<string> Data = new(() => MnistFolder.Create(40, 3, 5, 8));

    static FineTuneOptions Options(string output) => new()
    {
        Model = SharedAssets.Model("mnist-8.onnx"), Data = Data.Value, Out = output, Epochs = 6, Recipe = "head", Augment = "light", Seed = 3, Threads = 2,
    };

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-callbacks-").FullName, "run");

    static List<EpochMetrics> Metrics(string run) => File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l =>
    {
        var f = l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new EpochMetrics((int)f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
    }).ToList();

    [Fact]
    public void TheDefaultMonitorIsTheHighestValidationAccuracyWithTiesToTheLowerLoss()
    {
        var monitor = MetricMonitor.Default;
        Assert.True(monitor.Maximize);
        Assert.True(monitor.Improves(M(1, 9, 0), null));
        Assert.True(monitor.Improves(M(2, 0.5, 0.8), M(1, 0.4, 0.7)));
        Assert.False(monitor.Improves(M(2, 0.3, 0.6), M(1, 0.4, 0.7)));
        Assert.True(monitor.Improves(M(2, 0.3, 0.7), M(1, 0.4, 0.7)));    // a tie, lower loss
        Assert.False(monitor.Improves(M(2, 0.4, 0.7), M(1, 0.4, 0.7)));   // the same: not better
    }

    [Fact]
    public void ModeMinDeltaAndTheOtherMetricsFollowKeras()
    {
        var loss = new MetricMonitor("val_loss");
        Assert.False(loss.Maximize);
        Assert.True(loss.Improves(M(2, 0.3, 0.1), M(1, 0.4, 0.9)));
        Assert.False(loss.Improves(M(2, 0.5, 0.9), M(1, 0.4, 0.1)));
        Assert.True(loss.Improves(M(2, 0.4, 0.9), M(1, 0.4, 0.1)));      // a tie, higher accuracy
        var delta = new MetricMonitor("val_loss", minDelta: 0.05);
        Assert.False(delta.Improves(M(2, 0.36, 0.9), M(1, 0.4, 0.1)));   // 0.04 < min delta
        Assert.True(delta.Improves(M(2, 0.34, 0.9), M(1, 0.4, 0.1)));
        Assert.False(delta.Improves(M(2, 0.4, 0.9), M(1, 0.4, 0.1)));    // with a min delta, a tie is no improvement
        Assert.True(new MetricMonitor("val_loss", "max").Improves(M(2, 0.5, 0), M(1, 0.4, 0)));
        Assert.True(new MetricMonitor("train_loss").Improves(M(2, 1, 0, trainLoss: 0.2), M(1, 1, 0, trainLoss: 0.3)));
        Assert.True(new MetricMonitor("train_accuracy").Improves(M(2, 1, 0, trainAcc: 0.9), M(1, 1, 0, trainAcc: 0.3)));
        Assert.Equal("lower validation loss", loss.Describe());
        Assert.Equal("better validation accuracy", MetricMonitor.Default.Describe());
        Assert.Contains("--early-stop-monitor 'acc'", Assert.Throws<ArgumentException>(() => new MetricMonitor("acc")).Message);
        Assert.Contains("--early-stop-mode 'lower'", Assert.Throws<ArgumentException>(() => new MetricMonitor("val_loss", "lower")).Message);
        Assert.Contains("--min-delta -1", Assert.Throws<ArgumentException>(() => new MetricMonitor("val_loss", minDelta: -1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(0));
    }

    [Fact]
    public void CallbacksSeeEveryBatchAndEpochInOrderAndAStopOfTheirOwnEndsThePhaseInTheCheckpoint()
    {
        var run = NewRunFolder();
        var events = new List<string>();
        int batches = 0;
        long lastStep = 0;
        var first = new LambdaCallback(onEpochEnd: c => events.Add($"late{c.Epoch}"), order: 10);
        var second = new LambdaCallback(
            onTrainBegin: c => events.Add($"begin {c.TotalEpochs} {string.Join(",", c.Classes)}"),
            onEpochBegin: c => events.Add($"epoch{c.Epoch}"),
            onBatchEnd: c => { batches++; Assert.Equal(c.Step, lastStep + 1); lastStep = c.Step; Assert.InRange(c.Batch, 1, c.BatchesPerEpoch); Assert.True(double.IsFinite(c.BatchLoss)); },
            onEpochEnd: c =>
            {
                // The run's own callbacks of lower order have run: the best epoch is known, nothing is saved yet.
                Assert.NotNull(c.Best);
                Assert.Equal(c.Epoch, c.History.Count);
                Assert.Equal(c.Epoch == 1 ? null : c.Epoch - 1, c.LastCheckpointEpoch);
                events.Add($"end{c.Epoch} {c.Metrics!.Epoch}");
                if (c.Epoch == 2) c.StopPhase("stop: asked by the test");
            },
            onTrainEnd: c => events.Add($"end {c.History.Count}"));
        var log = new StringWriter();
        var summary = new FineTuneJob(Options(run), log) { Callbacks = [first, second] }.Run();
        Assert.Equal(["begin 6 3,5,8", "epoch1", "end1 1", "late1", "epoch2", "end2 2", "late2", "end 2"], events);
        Assert.Equal(2, summary.EpochsRun);
        Assert.Equal(lastStep, batches);
        Assert.True(batches > 2);
        Assert.Contains("stop: asked by the test", log.ToString());
        var last = RunCheckpoint.Load(RunCheckpoint.LastPath(run));
        Assert.Equal(1, last.Position.NextPhase);   // the phase is over: a resume only exports
        Assert.Equal(2, last.Position.EpochsDone);
        var again = new FineTuneJob(ResumeOptions.Load(run), TextWriter.Null).Run();
        Assert.Equal(2, again.EpochsRun);
    }

    [Fact]
    public void EarlyStopWithAMinDeltaNoEpochCanBeatStopsAfterThePatienceAndKeepsEpochOne()
    {
        // An accuracy never rises by more than 1: epoch 1 stays the best, and patience 2 stops after epoch 3.
        var run = NewRunFolder();
        var log = new StringWriter();
        var summary = new FineTuneJob(Options(run) with { EarlyStop = 2, MinDelta = 1 }, log).Run();
        Assert.Equal(3, summary.EpochsRun);
        Assert.Equal(1, summary.BestEpoch);
        Assert.Contains("early stop: no better validation accuracy for 2 epochs", log.ToString());
        Assert.Equal(1, RunCheckpoint.Load(RunCheckpoint.BestPath(run)).Position.EpochsDone);
        Assert.Equal(1, RunCheckpoint.Load(RunCheckpoint.LastPath(run)).Position.NextPhase);
        Assert.Equal(3, Metrics(run).Count);
    }

    [Fact]
    public void EarlyStopResumedAfterAKillStopsWhereTheUninterruptedRunDidWithTheSameWeights()
    {
        var options = (string run) => Options(run) with { EarlyStop = 2, MinDelta = 1 };
        var reference = NewRunFolder();
        new FineTuneJob(options(reference), TextWriter.Null).Run();
        var stopped = NewRunFolder();
        Assert.Throws<InvalidOperationException>(() => new FineTuneJob(options(stopped), new CrashingLog(@"^epoch\s+2/")).Run());
        var log = new StringWriter();
        var resumed = new FineTuneJob(ResumeOptions.Load(stopped), log).Run();
        Assert.Equal(3, resumed.EpochsRun);
        Assert.Contains("early stop", log.ToString());
        RunFiles.AssertSameRun(reference, stopped);
    }

    [Theory]
    [InlineData("val_loss")]
    [InlineData("val_accuracy")]
    [InlineData("train_loss")]
    public void TheBestEpochAndBestCheckpointFollowTheMonitor(string metric)
    {
        var run = NewRunFolder();
        var summary = new FineTuneJob(Options(run) with { Epochs = 4, EarlyStopMonitor = metric, Lr = 5e-3f }, TextWriter.Null).Run();
        var monitor = new MetricMonitor(metric);
        EpochMetrics? best = null;
        var history = RunCheckpoint.Load(RunCheckpoint.LastPath(run)).Metrics;   // exact values (metrics.csv rounds)
        Assert.Equal(4, history.Length);
        foreach (var m in history) if (monitor.Improves(m, best)) best = m;
        Assert.Equal(best!.Epoch, summary.BestEpoch);
        Assert.Equal(best.Epoch, RunCheckpoint.Load(RunCheckpoint.BestPath(run)).Position.EpochsDone);
        Assert.Equal(best.ValAccuracy, summary.ValAccuracy, 6);
    }

    [Fact]
    public void TheCommandLineTakesTheMonitorFlags()
    {
        var run = NewRunFolder();
        var r = CliTests.Run("finetune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", Data.Value, "--out", run, "--epochs", "4", "--threads", "2",
            "--early-stop", "1", "--early-stop-monitor", "val_loss", "--early-stop-mode", "max", "--min-delta", "1000");
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains("early stop: no higher validation loss for 1 epochs", r.Out);
        Assert.Equal(2, Metrics(run).Count);
        var saved = RunCheckpoint.Load(RunCheckpoint.LastPath(run)).Options;
        Assert.Equal(("val_loss", "max", 1000.0), (saved.EarlyStopMonitor, saved.EarlyStopMode, saved.MinDelta));
    }

    /// <summary>A log that fails the run once a line matches (the job logs an epoch after writing its checkpoint).</summary>
    sealed class CrashingLog(string pattern) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value != null && Regex.IsMatch(value, pattern)) throw new InvalidOperationException("simulated crash");
        }
    }
}
