using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;
using Xunit.Abstractions;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// A dense-prediction model (the tiny FPN shaped like the PP-OCRv4 detector: nearest and linear Resize, Concat,
/// ConvTranspose): parity with ONNX Runtime, the whole-model gradient check with the mean-squared-error loss, in code
/// and through <c>verify --grad --loss mse</c>, and the flags of that check refused when they do not fit.
/// </summary>
[Collection("Console")]
public class DenseModelTests(ITestOutputHelper output)
{
    /// <summary>The whole-model gradient check's bound (the engine's, not loosened here).</summary>
    const double Tolerance = GradientCheck.Tolerance;

    static readonly Lazy<string> Fpn = new(() => TestNets.TinyFpn(size: 64, seed: 3));

    static void AssertRefused((int Code, string Out, string Err) r, params string[] expected)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        foreach (var e in expected) Assert.Contains(e, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void TinyFpnMatchesOnnxRuntimeAtBatch1And8()
    {
        var model = OnnxImporter.Import(Fpn.Value);
        Assert.Contains(model.Graph.Nodes, n => n.Op.Type == "Resize");
        Assert.Contains(model.Graph.Nodes, n => n.Op.Type == "ConvTranspose");
        foreach (var batch in new[] { 1, 8 })
        {
            var r = Verifier.Verify(model, Verifier.RandomInputs(model, batch, seed: 11), perNode: batch == 1);
            Assert.Equal([batch, 1, 64, 64], r.Outputs[0].Shape);
            Assert.True(r.WithinTolerance, $"batch {batch}: max_abs {r.MaxAbs:E3} max_rel {r.MaxRel:E3} first divergent {r.FirstDivergentNode}");
        }
    }

    [Fact]
    public void TinyFpnPassesTheWholeModelMeanSquaredErrorCheck()
    {
        var s = new GradientCheckSettings { Batch = 2, Seed = 4, Loss = GradientCheckLoss.MeanSquaredError };
        var (m, plan) = GradientCheckJob.Prepare(Fpn.Value, s);
        var r = GradientCheckJob.Run(m, plan, s);
        output.WriteLine($"{r.Parameters.Count} of {r.TrainableParameters} tensors, max relative error {r.MaxRelativeError:E2}, {r.Forwards} forwards, {r.Seconds:F1}s");
        foreach (var p in r.Parameters)
            output.WriteLine($"  {p.Name,-24} analytic {p.Analytic,14:E6} numeric {p.Numeric,14:E6} rel {p.RelativeError:E2}");
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        // Every weighted layer trains, the two ConvTransposes' weights and the last one's bias among them.
        var transposes = m.Graph.Nodes.Where(n => n.Op.Type == "ConvTranspose").ToList();
        Assert.Equal(2, transposes.Count);
        foreach (var t in transposes)
            foreach (var v in t.Inputs.Skip(1))
                Assert.Contains(r.Parameters, p => p.Name == v.Parameter!.Name);
        foreach (var p in r.Parameters)
            Assert.True(p.RelativeError <= Tolerance, $"{p.Name}: analytic {p.Analytic:G8}, numeric {p.Numeric:G8}, relative error {p.RelativeError:E2}");
        Assert.True(r.Passed);
    }

    [Fact]
    public void VerifyGradWithTheMseLossPassesOnTheTinyFpn()
    {
        var r = CliTests.Run("verify", Fpn.Value, "--grad", "--loss", "mse", "--json");
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains("\"loss_function\":\"mse\"", r.Out);
        Assert.Contains("\"within_tolerance\":true", r.Out);
    }

    [Fact]
    public void VerifyRefusesLossFlagsThatDoNotFit()
    {
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--grad", "--loss", "l1"), "--loss", "l1", "cross-entropy or mse");
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--loss", "mse"), "--loss", "--grad");
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--grad", "--loss", "mse", "--classes", "3"), "--loss mse", "--classes");
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--grad", "--loss", "mse", "--recipe", "head"), "--loss mse", "--recipe head");
    }

    [Fact]
    public void VerifySizeSizesDynamicAxesAndIsRefusedWhereThereAreNone()
    {
        // The tiny FPN's input is fixed at 64×64: --size names it and is refused; out of range, refused before anything runs.
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--size", "96"), "--size 96", "fixed");
        AssertRefused(CliTests.Run("verify", Fpn.Value, "--size", "0"), "--size");
        // The text detector's H and W are dynamic: --size sets them.
        var r = CliTests.Run("verify", SharedAssets.Model("ch_PP-OCRv4_det_infer.onnx"), "--size", "96", "--json");
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains("\"shape\":[1,1,96,96]", r.Out);
    }
}
