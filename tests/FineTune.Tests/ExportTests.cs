using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Tests;

/// <summary>Import → export → ONNX Runtime agrees with the native model, and the weights survive the round trip.</summary>
public class ExportTests
{
    public static IEnumerable<object[]> Models() =>
        TransferKit.FineTune.Catalog.ModelCatalog.Default.Entries.Select(e => e.File)
            .Concat(["light/light_shufflenet.onnx", "light/light_squeezenet.onnx"])
            .Select(f => new object[] { f });

    static string TempFile(string name) => Path.Combine(Directory.CreateTempSubdirectory("transferkit-export-").FullName, name);

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportedModelMatchesNativeAtBatchOneAndEight(string file)
    {
        var m = OnnxImporter.Import(SharedAssets.Model(file));
        var path = TempFile("out.onnx");
        OnnxExporter.Save(m, path);
        foreach (var batch in new[] { 1, 8 })
        {
            var report = ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, batch, 3));
            Assert.True(report.Passed, $"{file} batch {batch}: max_abs {report.MaxAbs:E3} max_rel {report.MaxRel:E3} {report.WeightMismatch}");
        }
    }

    [Theory]
    [InlineData("squeezenet1.1_imagenet_fp32.onnx")]
    [InlineData("mnist-8.onnx")]
    [InlineData("mnist_opset7_winml.onnx")]
    [InlineData("bench/resnet18.onnx")]
    public void ANewHeadIsExportedWithItsClassCountAndADynamicBatch(string file)
    {
        var m = OnnxImporter.Import(SharedAssets.Model(file));
        var head = Head.Find(m.Graph);
        head.Replace(3, HeadInitializer.Xavier, seed: 5);
        var path = TempFile("tuned.onnx");
        OnnxExporter.Save(m, path, new ExportOptions { Metadata = new Dictionary<string, string> { ["labels"] = "[\"a\",\"b\",\"c\"]" } });
        var back = OnnxImporter.Import(path);
        Assert.Equal(OnnxExporter.BatchDimension, back.Proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(3, back.Outputs[0].Dims[1]);
        Assert.Equal("[\"a\",\"b\",\"c\"]", back.Metadata["labels"]);
        Assert.Equal(m.Opset, back.Opset);
        // Weights are initializers only, not graph inputs: valid from IR 4 on (SqueezeNet's IR 3 is raised).
        Assert.Equal(Math.Max(m.IrVersion, OnnxExporter.MinIrVersionWithoutWeightInputs), back.IrVersion);
        Assert.Single(back.Proto.Graph.Input);
        var report = ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, 5, 2));
        Assert.True(report.Passed, $"max_abs {report.MaxAbs:E3} {report.WeightMismatch}");
    }

    [Fact]
    public void ChangedWeightsAreDetected()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        var path = TempFile("out.onnx");
        OnnxExporter.Save(m, path);
        m.Graph.Parameters.First().Value.Span[0] += 1f;
        var report = ExportCheck.Verify(m.Graph, path, Verifier.RandomInputs(m, 2, 1));
        Assert.False(report.Passed);
        Assert.NotNull(report.WeightMismatch);
    }
}
