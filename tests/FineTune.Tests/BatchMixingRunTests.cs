using System.Text.RegularExpressions;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Fine-tunes with mixup and CutMix: the feature cache turns off (the images are mixed), the log says what mixes, and a
/// run stopped after an epoch resumes to the same files as an uninterrupted one (the draws are keyed on the step).
/// </summary>
public class BatchMixingRunTests
{
    sealed class SimulatedCrash : Exception;

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
        Model = SharedAssets.Model("mnist-8.onnx"), Data = data, Out = output, Epochs = 3, Recipe = "full", Augment = "none", Seed = 4,
        Batch = 8, Mixup = 0.4f, Cutmix = 1f, Threads = 2,
    };

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-mix-").FullName, "run");

    [Fact]
    public void AMixedRunLogsItsMixingAndResumesToTheSameRun()
    {
        var data = MnistFolder.Create(40, 3, 5, 8);
        var reference = NewRunFolder();
        var log = new StringWriter();
        var straight = new FineTuneJob(Options(data, reference), log).Run();
        Assert.False(straight.FeatureCache);
        Assert.Contains("batch mixing: mixup α=0.4, cutmix α=1", log.ToString());

        var stopped = NewRunFolder();
        Assert.Throws<SimulatedCrash>(() => new FineTuneJob(Options(data, stopped), new CrashingLog(@"^epoch\s+2/")).Run());
        new FineTuneJob(ResumeOptions.Load(stopped), TextWriter.Null).Run();
        RunFiles.AssertSameRun(reference, stopped);
    }

    [Fact]
    public void MixingChangesTheRun()
    {
        var data = MnistFolder.Create(40, 3, 5, 8);
        var mixed = NewRunFolder(); var plain = NewRunFolder();
        new FineTuneJob(Options(data, mixed), TextWriter.Null).Run();
        new FineTuneJob(Options(data, plain) with { Mixup = 0, Cutmix = 0 }, TextWriter.Null).Run();
        Assert.NotEqual(RunFiles.MetricsWithoutTime(mixed), RunFiles.MetricsWithoutTime(plain));
    }
}
