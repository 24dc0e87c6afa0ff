using System.Diagnostics;
using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;
using Xunit.Abstractions;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Random-weight models of today's CNN families, built by checked-in code as their exporters write them: each matches
/// ONNX Runtime at batch 1 and 8, passes the whole-model gradient check with the full recipe, has its classifier found
/// by head replacement on its own, and fine-tunes for two epochs on the ants-and-bees images to a <c>tuned.onnx</c>
/// that passes the export check.
/// </summary>
public class ModelFamilyTests(ITestOutputHelper output)
{
    /// <summary>The whole-model gradient check's bound (the engine's, not loosened here).</summary>
    const double Tolerance = GradientCheck.Tolerance;

    /// <summary>Input side of the family models: small, so every check runs in seconds.</summary>
    const int Size = 64;

    public static TheoryData<string> Families => new() { "mobilenetv3", "efficientnet", "convnext", "vit" };

    static string Build(string family) => family switch
    {
        "mobilenetv3" => TestNets.MobileNetV3Small(opset: 13, size: Size, seed: 1),
        "efficientnet" => TestNets.EfficientNetB0(size: Size, seed: 3),
        "convnext" => TestNets.ConvNeXt(size: Size, seed: 5),
        "vit" => TestNets.VitTiny(size: Size, seed: 7),
        _ => throw new ArgumentException(family),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void MatchesOnnxRuntimeAtBatch1And8(string family)
    {
        var model = OnnxImporter.Import(Build(family));
        foreach (var batch in new[] { 1, 8 })
        {
            var r = Verifier.Verify(model, Verifier.RandomInputs(model, batch, seed: 11));
            Assert.True(r.WithinTolerance, $"{family} batch {batch}: " + string.Join("; ", r.Outputs.Select(o => $"{o.Name} max_abs {o.MaxAbs:E3} max_rel {o.MaxRel:E3}")));
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void HeadReplacementFindsTheClassifier(string family)
    {
        var model = OnnxImporter.Import(Build(family));
        var head = Head.Find(model.Graph);
        Assert.Equal("Gemm", head.Node.Op.Type);
        Assert.Equal(model.Graph.Outputs[0], head.Node.Outputs[0]);
        Assert.Equal(10, head.Classes);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void PassesTheWholeModelGradientCheckWithTheFullRecipe(string family)
    {
        var sw = Stopwatch.StartNew();
        var s = new GradientCheckSettings { Classes = 2, Recipe = "full", Batch = 2, Seed = 6 };
        var (m, plan) = GradientCheckJob.Prepare(Build(family), s);
        var r = GradientCheckJob.Run(m, plan, s);
        output.WriteLine($"{family}: {r.Parameters.Count} of {r.TrainableParameters} tensors, max relative error {r.MaxRelativeError:E2}, loss noise {r.LossNoise:E2}, {sw.Elapsed.TotalSeconds:F1}s");
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        foreach (var p in r.Parameters)
            Assert.True(p.RelativeError <= Tolerance, $"{family} {p.Name}: analytic {p.Analytic:G8}, numeric {p.Numeric:G8}, relative error {p.RelativeError:E2}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void FineTunesTwoEpochsAndExports(string family)
    {
        var run = Directory.CreateTempSubdirectory("transferkit-family-").FullName;
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = Build(family), Data = SharedAssets.Dataset("hymenoptera_data"), Out = run,
            Epochs = 2, CacheViews = 1, Augment = "light", HeadDropout = 0, Recipe = "full", Batch = 16,
        }, log).Run();
        output.WriteLine(log.ToString());
        Assert.Equal(["ants", "bees"], summary.Classes);
        Assert.True(summary.ExportParityMaxAbs < 1e-4, $"export parity {summary.ExportParityMaxAbs}");
        var tuned = OnnxImporter.Import(Path.Combine(run, "tuned.onnx"));
        Assert.Equal(2, tuned.Outputs[0].Dims[1]);
    }

    /// <summary>
    /// The ViT head as <c>nn.Linear</c> on the picked cls token exports it (Gather → LayerNorm → MatMul + Add): found
    /// without a name, replaced with its bias, and the new head runs at another batch.
    /// </summary>
    [Fact]
    public void VitHeadAsMatMulAndAddOnThePickedTokenIsFound()
    {
        var model = OnnxImporter.Import(TestNets.VitTiny(size: Size, seed: 7, linearHead: true));
        var head = Head.Find(model.Graph);
        Assert.Equal("MatMul", head.Node.Op.Type);
        Assert.Equal("Add", head.BiasNode?.Op.Type);
        Assert.Equal(model.Graph.Outputs[0], head.BiasNode!.Outputs[0]);
        Assert.Equal(10, head.Classes);
        head.Replace(3, HeadInitializer.Kaiming, seed: 1);
        Assert.Equal([3], head.Bias!.Value.ShapeArray);
        var plan = new ExecutionPlan(model.Graph, [[5, 3, Size, Size]]);
        Assert.Equal([5, 3], plan.Shapes[model.Graph.Outputs[0].Id]);
    }

    /// <summary>
    /// The ViT with the head recipe: the frozen body, whose cls token is expanded to the batch read from the image,
    /// feeds the feature cache, and the head trains on cached features.
    /// </summary>
    [Fact]
    public void VitFineTunesTheHeadOnCachedFeatures()
    {
        var run = Directory.CreateTempSubdirectory("transferkit-family-").FullName;
        var log = new StringWriter();
        var summary = new FineTuneJob(new FineTuneOptions
        {
            Model = Build("vit"), Data = SharedAssets.Dataset("hymenoptera_data"), Out = run,
            Epochs = 2, CacheViews = 2, Augment = "light", HeadDropout = 0, Recipe = "head", Batch = 16,
        }, log).Run();
        output.WriteLine(log.ToString());
        Assert.Contains("feature cache: frontier", log.ToString());
        Assert.True(summary.ExportParityMaxAbs < 1e-4, $"export parity {summary.ExportParityMaxAbs}");
        Assert.Equal(2, OnnxImporter.Import(Path.Combine(run, "tuned.onnx")).Outputs[0].Dims[1]);
    }
}
