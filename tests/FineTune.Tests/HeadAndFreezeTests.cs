using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Tests;

public class HeadAndFreezeTests
{
    [Theory]
    [InlineData("squeezenet1.1_imagenet_fp32.onnx", "Conv", 1000)]
    [InlineData("mnist-8.onnx", "MatMul", 10)]
    [InlineData("cifar10_tutorial_ImageClassifier.onnx", "Gemm", 10)]
    [InlineData("bench/resnet18.onnx", "Gemm", 1000)]
    [InlineData("bench/squeezenet1_1.onnx", "Conv", 1000)]
    public void HeadIsFoundAutomatically(string model, string op, int classes)
    {
        var m = OnnxImporter.Import(SharedAssets.Model(model));
        var head = Head.Find(m.Graph);
        Assert.Equal(op, head.Node.Op.Type);
        Assert.Equal(classes, head.Classes);
    }

    [Fact]
    public void SqueezeNetHeadIsConv10AndSoftmaxIsSetAside()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var head = Head.Find(m.Graph);
        Assert.Equal("conv10_w_0", head.Weight.Name);
        Assert.NotNull(head.Softmax);
        head.Replace(2, HeadInitializer.Kaiming, seed: 1);
        Head.SetAsideSoftmax(m.Graph, head);
        var y = new GraphRunner(m.Graph).Run(Verifier.RandomInputs(m, 2, 1))[0];
        Assert.Equal(new[] { 2, 2, 1, 1 }, y.ShapeArray);
        Head.RestoreSoftmax(m.Graph, head);
        var p = new GraphRunner(m.Graph).Run(Verifier.RandomInputs(m, 2, 1))[0];
        Assert.Equal(1.0, p.Span[0] + p.Span[1], 5);
    }

    [Fact]
    public void HeadDropoutSetsTheModelsDropoutInFrontOfTheHead()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var head = Head.Find(m.Graph);
        var before = Assert.Single(head.DropoutsBefore());
        Assert.Equal(0.5f, ((DropoutOp)before.Op).Ratio);
        ((DropoutOp)before.Op).Seed = 42;
        head.SetDropout(0.2f, "squeezenet");
        var after = (DropoutOp)Assert.Single(head.DropoutsBefore()).Op;
        Assert.Equal(0.2f, after.Ratio);
        Assert.Equal(42UL, after.Seed);
        Assert.Throws<ArgumentException>(() => head.SetDropout(1f, "squeezenet"));

        // resnet18 has no dropout before its Gemm: 0 is accepted (nothing to turn off), anything else is an error naming the model and the head.
        var r = OnnxImporter.Import(SharedAssets.Model("bench/resnet18.onnx"));
        var rh = Head.Find(r.Graph);
        Assert.Empty(rh.DropoutsBefore());
        rh.SetDropout(0, "resnet18.onnx");
        var e = Assert.Throws<ArgumentException>(() => rh.SetDropout(0.3f, "resnet18.onnx"));
        Assert.Contains("resnet18.onnx", e.Message);
        Assert.Contains(rh.Node.Name, e.Message);
    }

    [Fact]
    public void ModelWithoutAHeadIsAClearError()
    {
        var g = new ComputeGraph();
        var x = g.AddInput("x", [-1, 4]);
        g.MarkOutput(g.AddNode("relu", new ReluOp(), [x], ["y"]).Outputs[0]);
        var e = Assert.Throws<ArgumentException>(() => Head.Find(g));
        Assert.Contains("--head", e.Message);
    }

    [Fact]
    public void NodeRangesInFreezeAndUnfreezeRules()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var convs = m.Graph.Nodes.Where(n => n.Op is ConvOp).ToList();
        bool Trains(Node n) => n.Inputs[1].Parameter!.Trainable;
        // "..VALUE" by a node's output name: fire5's concat and everything before it frozen, the rest trains.
        var concats = m.Graph.Nodes.Where(n => n.Op is ConcatOp).ToList();
        var cut = concats[2];
        FreezePlan.ForPhase(m.Graph, "full", [], BatchNormPolicy.Eval, [FreezePlan.UpTo + cut.Outputs[0].Name], []);
        Assert.All(convs, c => Assert.Equal(c.Index > cut.Index, Trains(c)));
        // "NODE.." by node name, after a head-only start: the last two convolutions train, the others stay frozen.
        var head = Head.Find(m.Graph);
        var plan = FreezePlan.ForPhase(m.Graph, "head", head.Nodes, BatchNormPolicy.Eval, [], [convs[^2].Name + ".."]);
        Assert.All(convs, c => Assert.Equal(c.Index >= convs[^2].Index, Trains(c)));
        Assert.Contains($"unfreeze_from {convs[^2].Name}", plan.Rules);
        var e = Assert.Throws<ArgumentException>(() => plan.FreezeRule("..no_such_node"));
        Assert.Contains("no_such_node", e.Message);
        // A glob is still a glob.
        plan.FreezeRule("conv10*");
        Assert.False(Trains(head.Node));
    }

    [Fact]
    public void FreezeRulesApplyInOrderAndTheDryRunTableSaysSo()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var plan = new FreezePlan(m.Graph).FreezeAll().Unfreeze("conv10*");
        Assert.Equal(new[] { "conv10_b_0", "conv10_w_0" }, m.Graph.Parameters.Where(p => p.Trainable).Select(p => p.Name).Order());
        plan.UnfreezeAll().FreezeTo(m.Graph.Nodes.First(n => n.Op is ConcatOp).Name);
        var firstConcat = m.Graph.Nodes.First(n => n.Op is ConcatOp);
        Assert.All(m.Graph.Nodes.Where(n => n.Index < firstConcat.Index).SelectMany(n => n.Inputs).Where(v => v.Parameter != null), v => Assert.False(v.Parameter!.Trainable));
        Assert.Contains(m.Graph.Parameters, p => p.Trainable);
        var table = plan.Describe();
        Assert.Contains("frozen", table);
        Assert.Contains("trainable", table);
        Assert.Throws<ArgumentException>(() => plan.Freeze("no_such_layer*"));
    }

    [Fact]
    public void BatchNormPolicies()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("bench/mobilenet_v2.onnx"));
        var bn = m.Graph.Nodes.First(n => n.Op is BatchNormalizationOp);
        foreach (var policy in Enum.GetValues<BatchNormPolicy>())
        {
            var plan = new FreezePlan(m.Graph) { BatchNorm = policy };
            plan.FreezeAllButHead(Head.Find(m.Graph).Nodes);
            plan.ApplyBatchNormPolicy();
            Assert.False(bn.Inputs[3].Parameter!.Trainable); // running statistics never take gradients
            Assert.Equal(policy != BatchNormPolicy.Eval, bn.Inputs[1].Parameter!.Trainable);
            Assert.Equal(policy == BatchNormPolicy.Train, plan.TrainingMode(bn));
        }
    }
}

public class CatalogTests
{
    [Fact]
    public void EveryCatalogueEntryMatchesItsSharedFile()
    {
        var catalog = TransferKit.FineTune.Catalog.ModelCatalog.Default;
        Assert.True(catalog.Entries.Count >= 9);
        foreach (var e in catalog.Entries)
        {
            var path = SharedAssets.Model(e.File);
            Assert.Equal(e.Sha256, TransferKit.FineTune.Catalog.ModelCatalog.Sha256Of(path));
            Assert.Same(e, catalog.Identify(path));
            if (e.Head != null)
            {
                var m = OnnxImporter.Import(path);
                Assert.Equal(Head.Find(m.Graph).Node.Name, e.Head);
            }
        }
    }
}

public class RealImageParityTests
{
    public static IEnumerable<object[]> ModelsAndBatches() =>
        TransferKit.FineTune.Catalog.ModelCatalog.Default.Entries.Select(e => e.File)
            .Concat(["light/light_bvlc_alexnet.onnx", "light/light_resnet50.onnx", "light/light_shufflenet.onnx", "light/light_squeezenet.onnx", "light/light_vgg19.onnx"])
            .SelectMany(f => new[] { 1, SecondBatch(f) }.Select(b => new object[] { f, b }));

    /// <summary>Batch 8, or 4 for the text detector's 640×640 inputs (batch 8 of those is past the verifier's memory budget).</summary>
    static int SecondBatch(string file) =>
        TransferKit.FineTune.Catalog.ModelCatalog.Default.Entries.FirstOrDefault(e => e.File == file)?.Input is { Height: > 224 } ? 4 : 8;

    /// <summary>MNIST test digits as the model card says (pixels scaled to 0..1), straight from the IDX file.</summary>
    static Tensor MnistDigits(int count)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(SharedAssets.Dataset("mnist/t10k-images-idx3-ubyte.gz")), System.IO.Compression.CompressionMode.Decompress);
        var bytes = new byte[16 + count * 784];
        gz.ReadExactly(bytes);
        var t = new Tensor(count, 1, 28, 28);
        for (int i = 0; i < t.Length; i++) t.Span[i] = bytes[16 + i] / 255f;
        return t;
    }

    [Theory]
    [MemberData(nameof(ModelsAndBatches))]
    public void RealImagesMatchOnnxRuntime(string file, int batch)
    {
        var m = OnnxImporter.Import(SharedAssets.Model(file));
        Tensor input;
        if (m.Inputs[0].Dims is [_, 1, 28, 28]) input = MnistDigits(batch);
        else
        {
            var images = Directory.GetFiles(SharedAssets.Dataset("hymenoptera_data/val/bees"), "*.jpg").Order(StringComparer.Ordinal).Take(batch).ToArray();
            input = TransferKit.FineTune.Catalog.InputConvention.For(m, null).Load(images, batch);
        }
        var report = Verifier.Verify(m, [input]);
        Assert.True(report.WithinTolerance, $"{file} batch {batch}: max_abs {report.MaxAbs:E3} max_rel {report.MaxRel:E3}");
    }

    [Fact]
    public void SqueezeNetSeesAntsAndBeesWithCaffePreprocessing()
    {
        // The model card: with BGR 0..255 mean-subtracted input, ImageNet "bee" (309) is the top-1 for most val bees.
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        var images = Directory.GetFiles(SharedAssets.Dataset("hymenoptera_data/val/bees"), "*.jpg").Order(StringComparer.Ordinal).Take(16).ToArray();
        var input = TransferKit.FineTune.Catalog.InputConvention.For(m, null).Load(images, images.Length);
        var probs = new GraphRunner(m.Graph).Run(input)[0];
        int bees = 0;
        for (int i = 0; i < images.Length; i++)
        {
            var row = probs.Span.Slice(i * 1000, 1000);
            int top = 0;
            for (int k = 1; k < 1000; k++) if (row[k] > row[top]) top = k;
            if (top == 309) bees++;
        }
        Assert.True(bees >= 8, $"{bees}/16 bees recognised");
    }
}
