using TransferKit.FineTune.Training;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Bad flags and inputs that used to end in stack traces or ran before failing: each is refused with exit 2, one line
/// naming the option, no stack trace, before any work is done.
/// </summary>
[Collection("Console")]
public class BadFlagTests
{
    /// <summary>A refusal: exit 2, the expected words in stderr, no stack-trace frame.</summary>
    static void AssertRefused((int Code, string Out, string Err) r, params string[] expected)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        foreach (var e in expected) Assert.Contains(e, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Unhandled exception", r.Err);
    }

    static readonly Lazy<string> Data = new(() => MnistFolder.Create(4, 0, 1));

    static (int, string, string) FineTune(params string[] flags) =>
        CliTests.Run(["finetune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", Data.Value,
            "--out", Path.Combine(Directory.CreateTempSubdirectory("transferkit-badflag-").FullName, "run"), "--epochs", "1", .. flags]);

    [Theory]
    [InlineData("--classes", "abc", "--classes 'abc'")]
    [InlineData("--classes", "AUTO", "--classes 'AUTO'")]
    [InlineData("--classes", "1", "--classes '1'")]
    [InlineData("--augment", "NotATransform(3)", "--augment 'NotATransform(3)'")]
    [InlineData("--augment", "sideways", "--augment 'sideways'")]
    [InlineData("--lr", "-1", "--lr -1")]
    [InlineData("--lr", "NaN", "--lr NaN")]
    [InlineData("--threads", "-2", "--threads -2")]
    [InlineData("--threads", "100000", "--threads 100000")]
    [InlineData("--label-smoothing", "2", "--label-smoothing 2")]
    [InlineData("--mixup", "-0.2", "--mixup -0.2")]
    [InlineData("--cutmix", "11", "--cutmix 11")]
    [InlineData("--mixup", "NaN", "--mixup NaN")]
    [InlineData("--limit-train", "-5", "--limit-train -5")]
    [InlineData("--limit-val", "-1", "--limit-val -1")]
    [InlineData("--batch", "2147483647", "--batch 2147483647")]
    [InlineData("--batch", "99999999999", "--batch")]
    [InlineData("--weight-decay", "-0.1", "--weight-decay -0.1")]
    [InlineData("--head-dropout", "1.5", "--head-dropout 1.5")]
    [InlineData("--min-delta", "-0.1", "--min-delta -0.1")]
    [InlineData("--min-delta", "NaN", "--min-delta NaN")]
    [InlineData("--min-delta", "Infinity", "--min-delta Infinity")]
    [InlineData("--early-stop-monitor", "accuracy", "--early-stop-monitor 'accuracy'", "val_accuracy, val_loss")]
    [InlineData("--early-stop-monitor", "VAL_LOSS", "--early-stop-monitor 'VAL_LOSS'")]
    [InlineData("--early-stop-mode", "up", "--early-stop-mode 'up'", "auto, min, max")]
    public void FineTuneRefusesAnOutOfRangeFlagNamingIt(string flag, string value, string named, string? listed = null)
    {
        var run = FineTune(flag, value);
        AssertRefused(run, listed == null ? [named] : [named, listed]);
    }

    [Fact]
    public void TheLimitsAreTheNamedConstants()
    {
        AssertRefused(FineTune("--threads", (OptionLimits.MaxThreads + 1).ToString()), $"0 to {OptionLimits.MaxThreads}");
        AssertRefused(FineTune("--batch", (OptionLimits.MaxBatch + 1).ToString()), $"1 to {OptionLimits.MaxBatch}");
        var e = Assert.Throws<ArgumentException>(() => OptionLimits.Check(new FineTuneOptions { Model = "m", Data = "d", Out = "o", Threads = -1 }));
        Assert.Contains("--threads -1", e.Message);
        OptionLimits.Check(new FineTuneOptions { Model = "m", Data = "d", Out = "o", Threads = OptionLimits.MaxThreads, LabelSmoothing = 1, Classes = "12" });
    }

    [Fact]
    public void BenchDataRefusesAnImageSizeThatWouldOverflow()
    {
        AssertRefused(CliTests.Run("bench-data", "--data", Data.Value, "--size", "100000"), "--size 100000", $"{OptionLimits.MaxImageSize}");
        AssertRefused(CliTests.Run("bench-data", "--data", Data.Value, "--threads", "-2"), "--threads -2");
        AssertRefused(CliTests.Run("bench", SharedAssets.Model("mnist-8.onnx"), "--batch", "0"), "--batch 0");
        AssertRefused(CliTests.Run("bench", SharedAssets.Model("mnist-8.onnx"), "--profile", "--top", "-1"), "--top -1");
    }

    [Fact]
    public void VerifyRefusesAHugeBatchFromItsPlanBeforeAllocating()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long before = GC.GetTotalAllocatedBytes();
        AssertRefused(CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--batch", "1000000"), "--batch 1000000", "budget");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.True(GC.GetTotalAllocatedBytes() - before < 256L << 20, "allocated for the refused batch");
        // Just above and below the budget, from the plan's own figure: 28×28 input, so batch b plans about b × 8 × 784 × (1 + layers).
        var model = Importers.Onnx.OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        long perImage = Verifier.PlannedBytes(model, Verifier.InputShapes(model, 1), perNode: false);
        int over = (int)(Verifier.MemoryBudgetBytes / perImage) + 2;
        Assert.True(Verifier.PlannedBytes(model, Verifier.InputShapes(model, over), perNode: false) > Verifier.MemoryBudgetBytes);
        AssertRefused(CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--batch", over.ToString()), $"--batch {over}");
    }

    [Fact]
    public void VerifyOfAModelWithAScalarInputRunsAtBatchOneAndRefusesABatch()
    {
        var b = new ModelBuilder().Input("x").Output("y");
        b.Node("Relu", ["x"], ["y"], "relu");
        var path = b.Save();
        var ok = CliTests.Run("verify", path);
        Assert.True(ok.Code == 0, $"exit {ok.Code}\n{ok.Out}\n{ok.Err}");
        Assert.Contains("PASS", ok.Out);
        AssertRefused(CliTests.Run("verify", path, "--batch", "4"), "--batch 4", "scalar");
    }
}
