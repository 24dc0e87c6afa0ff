using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// A run stopped at each point of the checkpoint write sequence (<see cref="CheckpointStep"/>), resumed, stopped again
/// in the next epoch and resumed to the end, finishes with the same checkpoints, metrics and tuned.onnx as an
/// uninterrupted run. The interesting epoch is a new best followed by one that is not: there the old write order lost
/// the best weights. A run left broken by that order (best epoch in no file) still finishes, with a warning.
/// </summary>
public class CheckpointKillPointTests
{
    /// <summary>Thrown by the stop hook: the process "dies" at that step (nothing after it runs).</summary>
    sealed class SimulatedKill : Exception;

    const int Epochs = 5;

    static FineTuneOptions Options(string data, string output) => new()
    {
        Model = SharedAssets.Model("mnist-8.onnx"), Data = data, Out = output, Epochs = Epochs, Recipe = "head", Augment = "light",
        Seed = 3, Lr = 0.05f, Schedule = "constant", Threads = 2,
    };

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-killpoint-").FullName, "run");

    /// <summary>The data, the uninterrupted reference run, and the first epoch that is a new best followed by one that is not.</summary>
    static readonly Lazy<(string Data, string Reference, int Epoch)> Shared = new(() =>
    {
        var data = MnistFolder.Create(40, 3, 5, 8);
        var reference = NewRunFolder();
        new FineTuneJob(Options(data, reference), TextWriter.Null).Run();
        var metrics = RunCheckpoint.Load(RunCheckpoint.LastPath(reference)).Metrics;
        double bestAcc = -1, bestLoss = double.MaxValue;
        var improved = new bool[metrics.Length];
        for (int i = 0; i < metrics.Length; i++)
            if (improved[i] = metrics[i].ValAccuracy > bestAcc || (metrics[i].ValAccuracy == bestAcc && metrics[i].ValLoss < bestLoss))
                (bestAcc, bestLoss) = (metrics[i].ValAccuracy, metrics[i].ValLoss);
        int epoch = Enumerable.Range(0, metrics.Length - 1).FirstOrDefault(i => improved[i] && !improved[i + 1], -1) + 1;
        Assert.True(epoch > 0, "the reference run has no best epoch followed by a worse one: "
                               + string.Join(", ", metrics.Select(m => $"{m.ValAccuracy:F3}/{m.ValLoss:F4}")));
        return (data, reference, epoch);
    });

    /// <summary>A stop hook that throws at <paramref name="step"/> of <paramref name="epoch"/>, truncating temporaries when asked (a kill mid-write).</summary>
    static Action<CheckpointStep, int> KillAt(CheckpointStep step, int epoch, string run, bool truncate) => (s, e) =>
    {
        if (s != step || e != epoch) return;
        if (truncate)
            foreach (var tmp in Directory.GetFiles(RunCheckpoint.Folder(run), "*.tmp-*"))
                using (var f = new FileStream(tmp, FileMode.Open)) f.SetLength(f.Length / 2);
        throw new SimulatedKill();
    };

    [Theory]
    [InlineData(CheckpointStep.LastWritten, false)]
    [InlineData(CheckpointStep.LastWritten, true)]
    [InlineData(CheckpointStep.LastReplaced, false)]
    [InlineData(CheckpointStep.BestWritten, false)]
    [InlineData(CheckpointStep.BestWritten, true)]
    [InlineData(CheckpointStep.BestReplaced, false)]
    public void KilledAtEachCheckpointStepOfANewBestAndAgainInTheNextEpochEndsIdentical(CheckpointStep step, bool midWrite)
    {
        var (data, reference, epoch) = Shared.Value;
        var run = NewRunFolder();
        Assert.Throws<SimulatedKill>(() => new FineTuneJob(Options(data, run), TextWriter.Null) { CheckpointStop = KillAt(step, epoch, run, midWrite) }.Run());
        if (step is CheckpointStep.LastWritten or CheckpointStep.BestWritten)
            Assert.NotEmpty(Directory.GetFiles(RunCheckpoint.Folder(run), "*.tmp-*"));

        // The resumed process dies once the next epoch (not a best) has replaced last.tkc; then a resume runs to the end.
        Assert.Throws<SimulatedKill>(() => new FineTuneJob(ResumeOptions.Load(run), TextWriter.Null)
        {
            CheckpointStop = KillAt(CheckpointStep.LastReplaced, epoch + 1, run, truncate: false),
        }.Run());
        var last = RunCheckpoint.Load(RunCheckpoint.LastPath(run));
        Assert.Equal(epoch + 1, last.Position.EpochsDone);
        Assert.Equal(epoch, last.Best!.Epoch);
        Assert.Equal(epoch, RunCheckpoint.Load(RunCheckpoint.BestPath(run)).Position.EpochsDone);

        var log = new StringWriter();
        new FineTuneJob(ResumeOptions.Load(run), log).Run();
        Assert.DoesNotContain("in no checkpoint", log.ToString());
        Assert.Empty(Directory.GetFiles(RunCheckpoint.Folder(run), "*.tmp-*"));
        RunFiles.AssertSameRun(reference, run);
    }

    [Fact]
    public void ARunWhoseBestEpochIsInNoFileFinishesWithAWarning()
    {
        var (data, reference, epoch) = Shared.Value;
        // Snapshots of every epoch's last.tkc from a run, to build the state the old write order left.
        var run = NewRunFolder();
        var snapshots = Directory.CreateTempSubdirectory("transferkit-snapshots-").FullName;
        string Snapshot(int e) => Path.Combine(snapshots, $"last-{e}.tkc");
        new FineTuneJob(Options(data, run), TextWriter.Null)
        {
            CheckpointStop = (s, e) => { if (s == CheckpointStep.LastReplaced) File.Copy(RunCheckpoint.LastPath(run), Snapshot(e)); },
        }.Run();
        // last.tkc from epoch+1 (its best: epoch), best.tkc from an earlier epoch, or missing.
        File.Delete(Path.Combine(run, "tuned.onnx"));
        File.Copy(Snapshot(epoch + 1), RunCheckpoint.LastPath(run), overwrite: true);
        if (epoch >= 2) File.Copy(Snapshot(epoch - 1), RunCheckpoint.BestPath(run), overwrite: true);
        else File.Delete(RunCheckpoint.BestPath(run));

        var log = new StringWriter();
        var summary = new FineTuneJob(ResumeOptions.Load(run), log).Run();
        Assert.Contains($"warning: the weights of the run's best epoch {epoch} are in no checkpoint", log.ToString());
        Assert.True(File.Exists(Path.Combine(run, "tuned.onnx")));
        Assert.NotEqual(epoch, summary.BestEpoch);
        Assert.Equal(Epochs, summary.EpochsRun);
        // The substitute best is an epoch whose checkpoint existed, and best.tkc holds it.
        var best = RunCheckpoint.Load(RunCheckpoint.BestPath(run));
        Assert.Equal(summary.BestEpoch, best.Position.EpochsDone);

        // A further resume of the finished run agrees with it and warns no more.
        var again = new StringWriter();
        new FineTuneJob(ResumeOptions.Load(run), again).Run();
        Assert.DoesNotContain("in no checkpoint", again.ToString());
    }
}
