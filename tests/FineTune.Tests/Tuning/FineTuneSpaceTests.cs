using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Training;
using TransferKit.FineTune.Tuning;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary>The fine-tune search space: flag and file syntax, freeze depth on real models, configurations as fine-tune options.</summary>
public class FineTuneSpaceTests
{
    static FineTuneOptions Base => new() { Model = "m.onnx", Data = "d", Out = "o" };

    [Fact]
    public void RangesAndListsParseAndBadOnesNameTheDimension()
    {
        var lr = FineTuneSpace.ParseRange("lr", "1e-4:1e-1");
        Assert.Equal(1e-4, lr.Low);
        Assert.Equal(1e-1, lr.High);
        Assert.False(lr.IsFixed);
        Assert.True(FineTuneSpace.ParseRange("weight-decay", "0").IsFixed);
        Assert.Contains("backwards", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseRange("lr", "1e-1:1e-4")).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseRange("weight-decay", "0:1e-2")).Message);
        Assert.StartsWith("lr:", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseRange("lr", "fast")).Message);

        Assert.Equal(["16", "32"], FineTuneSpace.ParseList("batch", "16, 32").Choices);
        Assert.Equal(["0", "2", "all", "two-phase"], FineTuneSpace.ParseList("freeze-depth", "0,2,all,two-phase").Choices);
        Assert.Contains("'0'", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseList("batch", "16,0")).Message);
        Assert.Contains("'huge'", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseList("augment", "none,huge")).Message);
        Assert.Contains("'-1'", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseList("freeze-depth", "0,-1")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseList("batch", "16,16")).Message);
    }

    [Fact]
    public void HeadDropoutIsSearchedOnlyWhenAskedFor()
    {
        Assert.Null(FineTuneSpace.Default.Find(FineTuneSpace.HeadDropout));
        var path = Path.Combine(Directory.CreateTempSubdirectory("transferkit-space-").FullName, "space.json");
        File.WriteAllText(path, """{ "head-dropout": [0, 0.2, 0.5] }""");
        var space = FineTuneSpace.ReadFile(path, FineTuneSpace.Default);
        Assert.Equal(["0", "0.2", "0.5"], ((CategoricalDimension)space.Find("head-dropout")!).Choices);
        Assert.Contains("'1'", Assert.Throws<ArgumentException>(() => FineTuneSpace.ParseList("head-dropout", "0,1")).Message);
        var options = new FineTuneOptions { Model = "m.onnx", Data = "d", Out = "o" };
        Assert.Null(options.HeadDropout);
        var tuned = FineTuneSpace.Apply(new Configuration(new Dictionary<string, double>(), new Dictionary<string, string> { ["head-dropout"] = "0.2" }), options, null!);
        Assert.Equal(0.2f, tuned.HeadDropout);
    }

    [Fact]
    public void SpaceFileOverridesTheDimensionsItNames()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("transferkit-space-").FullName, "space.json");
        File.WriteAllText(path, """{ "lr": "1e-3:1e-2", "weight-decay": 0, "batch": [8, 64], "freeze-depth": [0, "all"] }""");
        var space = FineTuneSpace.ReadFile(path, FineTuneSpace.Default);
        Assert.Equal(FineTuneSpace.Names, space.Dimensions.Select(d => d.Name));
        Assert.Equal(1e-2, ((LogUniformDimension)space.Find("lr")!).High);
        Assert.True(space.Find("weight-decay")!.IsFixed);
        Assert.Equal(["8", "64"], ((CategoricalDimension)space.Find("batch")!).Choices);
        Assert.Equal(((CategoricalDimension)FineTuneSpace.Default.Find("augment")!).Choices, ((CategoricalDimension)space.Find("augment")!).Choices);
        Assert.Equal(["0", "all"], ((CategoricalDimension)space.Find("freeze-depth")!).Choices);

        File.WriteAllText(path, """{ "momentum": [0.9] }""");
        var e = Assert.Throws<ArgumentException>(() => FineTuneSpace.ReadFile(path, FineTuneSpace.Default));
        Assert.Contains(path, e.Message);
        Assert.Contains("momentum", e.Message);
    }

    [Fact]
    public void FreezeDepthCountsWeightedLayersBackFromTheHead()
    {
        var model = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        var head = Head.Find(model.Graph);
        var depth = new FreezeDepth(model.Graph, head);
        Assert.Equal(["Convolution28", "Convolution110"], depth.BodyLayers.Select(n => n.Name));
        Assert.Empty(depth.TrainableNodes(0));
        Assert.Equal(["Convolution110", "Plus112"], depth.TrainableNodes(1));
        Assert.Equal(["Convolution28", "Plus30", "Convolution110", "Plus112"], depth.TrainableNodes(2));
        Assert.Contains("only 2 weighted layers", Assert.Throws<ArgumentException>(() => depth.Validate("3")).Message);

        Assert.Equal("full", depth.Apply("all", Base).Recipe);
        Assert.Equal("two-phase", depth.Apply("two-phase", Base).Recipe);
        var one = depth.Apply("1", Base with { Freeze = ["x"] });
        Assert.Equal("head", one.Recipe);
        Assert.Empty(one.Freeze);

        // The job's rules (all but the head frozen, then the unfreeze list) leave exactly conv2, its bias and the head trainable.
        var plan = new FreezePlan(model.Graph);
        plan.FreezeAllButHead(head.Nodes);
        foreach (var u in one.Unfreeze) plan.Unfreeze(u);
        var trainable = model.Graph.Parameters.Where(p => p.Trainable).Select(p => p.Name).Order().ToArray();
        Assert.Equal(new[] { "Parameter193_reshape1", "Parameter194", "Parameter87", "Parameter88" }.Order(), trainable);
    }

    [Fact]
    public void SqueezeNetDepthTwoIsTheLastFireModulesExpandLayers()
    {
        var model = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var depth = new FreezeDepth(model.Graph, Head.Find(model.Graph));
        Assert.Equal(25, depth.BodyLayers.Count);
        Assert.Equal(["Conv_56", "Conv_58"], depth.TrainableNodes(2));
    }

    [Fact]
    public void ConfigurationBecomesFineTuneOptions()
    {
        var model = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        var depth = new FreezeDepth(model.Graph, Head.Find(model.Graph));
        var c = FineTuneSpace.Round(new Configuration(
            new Dictionary<string, double> { ["lr"] = 0.0031622776, ["weight-decay"] = 1.23456e-5 },
            new Dictionary<string, string> { ["batch"] = "64", ["augment"] = "light", ["freeze-depth"] = "1" }));
        var o = FineTuneSpace.Apply(c, Base, depth);
        Assert.Equal(0.00316f, o.Lr);
        Assert.Equal(1.23e-5f, o.WeightDecay);
        Assert.Equal(64, o.Batch);
        Assert.Equal("light", o.Augment);
        Assert.Equal("head", o.Recipe);
        Assert.Equal(["Convolution110", "Plus112"], o.Unfreeze);
        // Dimensions a space leaves out keep the base options' values.
        var partial = FineTuneSpace.Apply(new Configuration(new Dictionary<string, double>(), new Dictionary<string, string> { ["batch"] = "8" }), Base, depth);
        Assert.Equal(Base.Lr, partial.Lr);
        Assert.Equal(8, partial.Batch);
    }

    [Fact]
    public void ConfigFilesRoundTripAndAcceptEnumNamesOrNumbers()
    {
        var folder = Directory.CreateTempSubdirectory("transferkit-config-").FullName;
        var path = Path.Combine(folder, "c.json");
        var written = Base with { Lr = 0.0123f, Bn = BatchNormPolicy.Affine, Unfreeze = ["a", "b"], HeadInit = HeadInitializer.Kaiming, LimitTrain = 7 };
        FineTuneConfigFile.Write(path, written);
        Assert.Contains("\"bn\": \"affine\"", File.ReadAllText(path));
        Assert.Contains("\"weight-decay\"", File.ReadAllText(path));
        var read = FineTuneConfigFile.Read(path);
        Assert.Equal(written with { Unfreeze = read.Unfreeze, Freeze = read.Freeze }, read);
        Assert.Equal(written.Unfreeze, read.Unfreeze);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp-*"));

        File.WriteAllText(path, """{ "model": "m", "data": "d", "out": "o", "bn": 2 }""");
        Assert.Equal(BatchNormPolicy.Train, FineTuneConfigFile.Read(path).Bn);
        File.WriteAllText(path, """{ "model": "m", "data": "d", "out": "o", "bn": "sideways" }""");
        Assert.Contains(path, Assert.Throws<System.Text.Json.JsonException>(() => FineTuneConfigFile.Read(path)).Message);
    }
}
