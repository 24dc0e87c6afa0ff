using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;

namespace TransferKit.Importers.Tests;

/// <summary>Every shared model runs on our kernels within the import tolerance of ONNX Runtime, at batch 1 and 8.</summary>
public class ModelParityTests
{
    public static readonly string[] Models =
    [
        "mnist-8.onnx", "mnist_opset7_winml.onnx", "cifar10_tutorial_ImageClassifier.onnx", "squeezenet_cifar10.onnx",
        "squeezenet1.1_imagenet_fp32.onnx", "squeezenet1.1_imagenet_fp16.onnx",
        "light/light_bvlc_alexnet.onnx", "light/light_resnet50.onnx", "light/light_shufflenet.onnx", "light/light_squeezenet.onnx", "light/light_vgg19.onnx",
        "bench/resnet18.onnx", "bench/mobilenet_v2.onnx", "bench/squeezenet1_1.onnx",
        "ch_PP-OCRv4_det_infer.onnx",
    ];

    /// <summary>The PP-OCRv4 text detector (FPN neck with nearest Resize, ConvTranspose head) at the size its card names.</summary>
    public const string TextDetector = "ch_PP-OCRv4_det_infer.onnx";

    /// <summary>Height and width of the text detector's random inputs (H and W are dynamic; multiples of 32).</summary>
    public const int TextDetectorSize = 640;

    public static IEnumerable<object[]> ModelsAndBatches() =>
        Models.SelectMany(m => new[] { 1, 8 }.Select(b => new object[] { m, b }));

    [Fact]
    public void EveryModelInTheSharedFoldersIsCovered()
    {
        var root = Path.Combine(SharedAssets.Root, "models");
        var onDisk = new[] { "", "light", "bench" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(root, d), "*.onnx").Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Order().ToArray();
        Assert.Equal(onDisk, Models.Order().ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void TextDetectorMatchesOnnxRuntimeAt640(int batch)
    {
        var imported = OnnxImporter.Import(SharedAssets.Model(TextDetector));
        var report = Verifier.Verify(imported, Verifier.RandomInputs(imported, batch, seed: 7, TextDetectorSize));
        Assert.Equal([batch, 1, TextDetectorSize, TextDetectorSize], report.Outputs[0].Shape);
        Assert.True(report.WithinTolerance, $"batch {batch}: max_abs {report.MaxAbs:E3} max_rel {report.MaxRel:E3}");
    }

    [Theory]
    [MemberData(nameof(ModelsAndBatches))]
    public void RandomInputsMatchOnnxRuntime(string model, int batch)
    {
        var imported = OnnxImporter.Import(SharedAssets.Model(model));
        var report = Verifier.Verify(imported, Verifier.RandomInputs(imported, batch, seed: 7));
        Assert.Equal(batch, report.Outputs[0].Shape[0]);
        Assert.True(report.WithinTolerance,
            $"{model} batch {batch}: " + string.Join("; ", report.Outputs.Select(o => $"{o.Name} max_abs {o.MaxAbs:E3} max_rel {o.MaxRel:E3}")));
    }

    [Fact]
    public void PerNodeComparisonCoversEveryIntermediate()
    {
        var imported = OnnxImporter.Import(SharedAssets.Model("squeezenet_cifar10.onnx"));
        var report = Verifier.Verify(imported, Verifier.RandomInputs(imported, 2, seed: 1), perNode: true);
        Assert.True(report.WithinTolerance);
        Assert.Null(report.FirstDivergentNode);
        Assert.Equal(imported.Graph.Nodes.Count, report.NodesCompared);
    }

    [Fact]
    public void PerNodeComparisonNamesTheFirstDivergentNode()
    {
        var imported = OnnxImporter.Import(SharedAssets.Model("squeezenet_cifar10.onnx"));
        // Corrupt one weight of the third convolution: that node (and not an earlier one) must be named.
        var convs = imported.Graph.Nodes.Where(n => n.Op.Type == "Conv").ToList();
        var target = convs[2];
        var w = target.Inputs[1].Parameter!.Value.Span;
        for (int i = 0; i < w.Length; i++) w[i] += 0.5f;
        var report = Verifier.Verify(imported, Verifier.RandomInputs(imported, 1, seed: 1), perNode: true);
        Assert.False(report.WithinTolerance);
        Assert.NotNull(report.FirstDivergentNode);
        Assert.Equal(target.Name, report.FirstDivergentNode!.Node);
    }

    [Fact]
    public void WeightsInConstantNodesGiveTheSameParametersAsInitializers()
    {
        var path = SharedAssets.Model("mnist-8.onnx");
        var original = OnnxImporter.Import(path);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // Move every initializer into a Constant node at the front of the graph.
        foreach (var init in proto.Graph.Initializer.Reverse())
        {
            var node = new NodeProto { OpType = "Constant", Name = "const_" + init.Name };
            node.Output.Add(init.Name);
            node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = init });
            proto.Graph.Node.Insert(0, node);
        }
        foreach (var name in proto.Graph.Initializer.Select(i => i.Name).ToList())
        {
            var input = proto.Graph.Input.FirstOrDefault(i => i.Name == name);
            if (input != null) proto.Graph.Input.Remove(input);
        }
        proto.Graph.Initializer.Clear();
        var fromConstants = OnnxImporter.Import(proto, path);
        Assert.Equal(original.Graph.ParameterCount, fromConstants.Graph.ParameterCount);
        Assert.Equal(5994, fromConstants.Graph.ParameterCount); // float weights only; the two int64 shape tensors fold away
        Assert.Equal(original.Graph.Nodes.Select(n => n.Op.Type), fromConstants.Graph.Nodes.Select(n => n.Op.Type));
    }

    [Theory]
    [InlineData("squeezenet1.1_imagenet_fp32.onnx", 1235496)]
    [InlineData("mnist-8.onnx", 5994)] // the model card's 5,998 also counts the two 2-element int64 shape initializers
    [InlineData("cifar10_tutorial_ImageClassifier.onnx", 50182)]
    [InlineData("squeezenet_cifar10.onnx", 73546)]
    public void ParameterCountsMatchTheModelCards(string model, long parameters) =>
        Assert.Equal(parameters, OnnxImporter.Import(SharedAssets.Model(model)).Graph.ParameterCount);

    [Fact]
    public void LightModelsFoldTheirConstantSubgraphs()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("light/light_resnet50.onnx"));
        Assert.DoesNotContain(m.Graph.Nodes, n => n.Op.Type is "ConstantOfShape" or "Shape" or "Constant");
        Assert.True(m.Graph.ParameterCount > 25_000_000, $"{m.Graph.ParameterCount} parameters");
    }

    [Fact]
    public void UnnamedNodesGetStableNames()
    {
        var a = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var b = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        Assert.Equal(a.Graph.Nodes.Select(n => n.Name), b.Graph.Nodes.Select(n => n.Name));
        Assert.All(a.Graph.Nodes, n => Assert.False(string.IsNullOrEmpty(n.Name)));
        Assert.Equal(a.Graph.Nodes.Count, a.Graph.Nodes.Select(n => n.Name).Distinct().Count());
    }

    [Fact]
    public void FixedBatchReshapeFollowsTheBatch()
    {
        // mnist_opset7 reshapes to [1,256]; at batch 8 it must give 8 rows, each equal to the single-image result.
        var m = OnnxImporter.Import(SharedAssets.Model("mnist_opset7_winml.onnx"));
        var inputs = Verifier.RandomInputs(m, 8, seed: 3);
        var runner = new GraphRunner(m.Graph);
        var all = runner.Run(inputs)[0];
        Assert.Equal(new[] { 8, 10 }, all.ShapeArray);
        for (int i = 0; i < 8; i++)
        {
            var one = new Toolkit.Tensors.Tensor([1, 1, 28, 28], inputs[0].Span.Slice(i * 784, 784).ToArray());
            var single = runner.Run(one)[0];
            Assert.Equal(single.Span.ToArray(), all.Span.Slice(i * 10, 10).ToArray());
        }
    }
}
