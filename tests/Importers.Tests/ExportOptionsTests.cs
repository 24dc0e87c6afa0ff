using Onnx;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Random;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Onnx.Export;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Export options: batch norms folded into the layers before them, and the input normalisation baked into the
/// graph. ONNX Runtime on the rewritten file must agree with the native graph within <see cref="Tolerance.Export"/>.
/// </summary>
public class ExportOptionsTests
{
    static string TempFile(string name) => Path.Combine(Directory.CreateTempSubdirectory("transferkit-export-options-").FullName, name);

    static int Count(ModelProto p, string opType) => p.Graph.Node.Count(n => n.OpType == opType);

    static Dictionary<string, float[]> Snapshot(ImportedModel m) => m.Graph.Parameters.ToDictionary(p => p.Name, p => p.Value.Span.ToArray());

    /// <summary>Seeded raw RGB images: whole numbers 0–255, N×3×H×W.</summary>
    static Tensor RawImages(int batch, int height, int width, int seed)
    {
        var rng = new Random(seed);
        var t = new Tensor(batch, 3, height, width);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = rng.Next(256);
        return t;
    }

    /// <summary>What the training pipeline feeds the model for those images: pixels to 0–1, then Augment's own Normalize.</summary>
    static Tensor Preprocessed(Tensor raw, Preprocessing p)
    {
        int n = raw.Dim(0), h = raw.Dim(2), w = raw.Dim(3), per = 3 * h * w;
        var result = new Tensor(raw.ShapeArray);
        var buffer = new SampleBuffer();
        var rng = new CounterRng(0, 0, 0, 0);
        for (int b = 0; b < n; b++)
        {
            buffer.Reset(3, h, w);
            var px = buffer.Pixels;
            for (int i = 0; i < per; i++) px[i] = raw.Span[b * per + i] / 255f;
            p.ToNormalize().Apply(buffer, ref rng);
            buffer.Pixels.CopyTo(result.Span.Slice(b * per, per));
        }
        return result;
    }

    [Fact]
    public void FoldingMobileNetV2RemovesEveryBatchNormAndKeepsTheOutputs()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("bench/mobilenet_v2.onnx"));
        int batchNorms = m.OpHistogram["BatchNormalization"];
        Assert.True(batchNorms > 0);
        var before = Snapshot(m);
        int nativeNodes = m.Graph.Nodes.Count;
        var path = TempFile("folded.onnx");

        var result = OnnxExporter.Save(m, path, new ExportOptions { FoldBatchNorm = true });

        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(0, Count(written, "BatchNormalization"));
        Assert.Equal(batchNorms, result.FoldedBatchNorms.Count);
        Assert.Equal(m.Proto.Graph.Node.Count - batchNorms, written.Graph.Node.Count);
        Assert.Equal(m.Opset, OnnxImporter.Import(path).Opset);
        var report = ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, 2, 7), result);
        Assert.True(report.Passed, $"max_abs {report.MaxAbs:E3} max_rel {report.MaxRel:E3} {report.WeightMismatch}");
        // The folded weights really differ from the graph's (a plain check would call them mismatched) ...
        Assert.False(ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, 1, 7)).WeightsRoundTrip);
        // ... while the in-memory graph keeps its batch norms and its values.
        Assert.Equal(nativeNodes, m.Graph.Nodes.Count);
        Assert.Equal(batchNorms, m.Graph.Nodes.Count(n => n.Op.Type == "BatchNormalization"));
        foreach (var p in m.Graph.Parameters) Assert.Equal(before[p.Name], p.Value.Span.ToArray());
    }

    /// <summary>
    /// A small graph with one foldable Conv→BN (no bias: one is added), one Conv→BN whose Conv output is also read
    /// by a Relu (must stay), and a Gemm (transB, β = 0.5) → BN on 2-D features.
    /// </summary>
    static ModelBuilder MixedBatchNormModel()
    {
        var rng = new Random(11);
        float[] R(int n, double scale = 1, double offset = 0) => Enumerable.Range(0, n).Select(_ => (float)(offset + scale * (rng.NextDouble() * 2 - 1))).ToArray();
        var b = new ModelBuilder(opset: 13).Input("x", -1, 3, 8, 8).Output("y", -1, 4, 8, 8).Output("z", -1, 5);
        void Bn(string name, int c) => b.Initializer(name + "_scale", [c], R(c, 0.5, 1)).Initializer(name + "_bias", [c], R(c))
            .Initializer(name + "_mean", [c], R(c, 0.3)).Initializer(name + "_var", [c], R(c, 0.4, 1));
        b.Initializer("w1", [4, 3, 3, 3], R(108, 0.5));
        b.Node("Conv", ["x", "w1"], ["c1"], "conv1").Attribute.Add(ModelBuilder.Ints("pads", 1, 1, 1, 1));
        Bn("bn1", 4);
        b.Node("BatchNormalization", ["c1", "bn1_scale", "bn1_bias", "bn1_mean", "bn1_var"], ["n1"], "bn1");
        b.Initializer("w2", [4, 4, 1, 1], R(16, 0.5)).Initializer("b2", [4], R(4));
        b.Node("Conv", ["n1", "w2", "b2"], ["c2"], "conv2");
        Bn("bn2", 4);
        b.Node("BatchNormalization", ["c2", "bn2_scale", "bn2_bias", "bn2_mean", "bn2_var"], ["n2"], "bn2");
        b.Node("Relu", ["c2"], ["r2"], "relu2");
        b.Node("Add", ["n2", "r2"], ["y"], "add");
        b.Node("GlobalAveragePool", ["y"], ["g"], "gap");
        b.Node("Flatten", ["g"], ["f"], "flatten");
        b.Initializer("wg", [5, 4], R(20)).Initializer("bg", [5], R(5));
        var gemm = b.Node("Gemm", ["f", "wg", "bg"], ["h"], "fc");
        gemm.Attribute.Add(ModelBuilder.Int("transB", 1));
        gemm.Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f });
        Bn("bn3", 5);
        b.Node("BatchNormalization", ["h", "bn3_scale", "bn3_bias", "bn3_mean", "bn3_var"], ["z"], "bn3");
        return b;
    }

    [Fact]
    public void OnlyBatchNormsWhoseLayerOutputIsTheirsAloneAreFolded()
    {
        var m = OnnxImporter.Import(MixedBatchNormModel().Save());
        var path = TempFile("folded.onnx");

        var result = OnnxExporter.Save(m, path, new ExportOptions { FoldBatchNorm = true });

        Assert.Equal([("bn1", "conv1"), ("bn3", "fc")], result.FoldedBatchNorms);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal("bn2", Assert.Single(written.Graph.Node, n => n.OpType == "BatchNormalization").Name);
        Assert.Equal(3, written.Graph.Node.Single(n => n.Name == "conv1").Input.Count);
        Assert.Equal(["y", "z"], written.Graph.Output.Select(o => o.Name));
        Assert.DoesNotContain(written.Graph.Initializer, t => t.Name.StartsWith("bn1_") || t.Name.StartsWith("bn3_"));
        var report = ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, 3, 2), result);
        Assert.True(report.Passed, $"max_abs {report.MaxAbs:E3} max_rel {report.MaxRel:E3} {report.WeightMismatch}");
    }

    [Fact]
    public void BakedCaffePreprocessingTakesRawRgbAndMatchesTheOriginalOnPreprocessedInput()
    {
        var file = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        var m = OnnxImporter.Import(file);
        // The catalogue's convention for this model (SOURCES.md: BGR, 0–255, mean B=104 G=117 R=123, no std).
        var pre = InputConvention.For(m, null).Preprocessing;
        Assert.Equal((ChannelOrder.Bgr, ValueRange.Byte), (pre.Order, pre.Range));
        Assert.Equal([104f, 117f, 123f], pre.Mean);
        var path = TempFile("baked.onnx");

        var result = OnnxExporter.Save(m, path, new ExportOptions { BakePreprocess = BakedPreprocessing.From(pre) });

        var baked = OnnxImporter.Import(path);
        Assert.Equal(m.Inputs[0].Name, baked.Inputs[0].Name);
        Assert.Equal(m.Opset, baked.Opset);
        Assert.Equal(PreprocessBaking.RawRgbFormat, baked.Metadata[PreprocessBaking.InputFormatKey]);
        Assert.Contains("BGR", baked.Metadata[PreprocessBaking.BakedKey]);

        var raw = RawImages(2, 224, 224, seed: 4);
        var preprocessed = Preprocessed(raw, pre);
        using var original = new OrtReference(m);
        using var withBake = new OrtReference(baked);
        var expected = original.Run([preprocessed])[m.Outputs[0].Name];
        var actual = withBake.Run([raw])[m.Outputs[0].Name];
        var c = Tolerance.Export.Compare(actual.Span, expected.Span);
        Assert.True(c.Within, $"baked on raw vs original on preprocessed: max_abs {c.MaxAbs:E3} max_rel {c.MaxRel:E3}");
        // Raw pixels straight into the original give something else: the comparison above can fail.
        Assert.False(Tolerance.Export.Compare(original.Run([raw])[m.Outputs[0].Name].Span, expected.Span).Within);
        // The export check feeds the baked file the raw images behind the native inputs.
        var report = ExportCheck.Verify(m.Graph, path, [preprocessed], result);
        Assert.True(report.Passed, $"max_abs {report.MaxAbs:E3} {report.WeightMismatch}");
    }

    [Fact]
    public void BakedTorchvisionPreprocessingWithFoldedBatchNormsMatchesNative()
    {
        var m = OnnxImporter.Import(MixedBatchNormModel().Save());
        var pre = Preprocessing.TorchvisionImageNet;
        var path = TempFile("both.onnx");

        var result = OnnxExporter.Save(m, path, new ExportOptions { FoldBatchNorm = true, BakePreprocess = BakedPreprocessing.From(pre) });

        var raw = RawImages(3, 8, 8, seed: 9);
        var preprocessed = Preprocessed(raw, pre);
        // The same numbers the exporter baked, applied on the host, give Augment's preprocessing.
        Assert.True(Tolerance.Export.Compare(BakedPreprocessing.From(pre).Normalize(raw).Span, preprocessed.Span).Within);
        var native = new Toolkit.Graph.ExecutionPlan(m.Graph, [preprocessed.ShapeArray]).Run([preprocessed]).Select(t => t.Clone()).ToArray();
        using var ort = new OrtReference(OnnxImporter.Import(path));
        var outputs = ort.Run([raw]);
        for (int o = 0; o < native.Length; o++)
        {
            var c = Tolerance.Export.Compare(outputs[m.Outputs[o].Name].Span, native[o].Span);
            Assert.True(c.Within, $"{m.Outputs[o].Name}: max_abs {c.MaxAbs:E3} max_rel {c.MaxRel:E3}");
        }
        Assert.True(ExportCheck.Verify(m.Graph, path, [preprocessed], result).Passed);
    }

    [Fact]
    public void BakingNeedsAnRgbInput()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToProto(m, new ExportOptions { BakePreprocess = BakedPreprocessing.From(Preprocessing.TorchvisionImageNet) }));
        Assert.Contains("Input3", e.Message);
        Assert.Throws<NotSupportedException>(() => BakedPreprocessing.From(Preprocessing.Mnist));
    }
}
