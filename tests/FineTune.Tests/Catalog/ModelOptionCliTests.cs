using System.Text.Json;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Cli;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests.Catalog;

/// <summary>Verbs take a catalogue name wherever they take a model file (in the Console collection: it sets environment variables).</summary>
[Collection("Console")]
public class ModelOptionCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        var (o, e) = (Console.Out, Console.Error);
        var (models, cache) = (Environment.GetEnvironmentVariable(ModelCatalog.ModelsEnvironmentVariable), Environment.GetEnvironmentVariable(ModelResolver.CacheEnvironmentVariable));
        Environment.SetEnvironmentVariable(ModelCatalog.ModelsEnvironmentVariable, Path.GetDirectoryName(SharedAssets.Model("SOURCES.md")));
        Environment.SetEnvironmentVariable(ModelResolver.CacheEnvironmentVariable, Directory.CreateTempSubdirectory("transferkit-cache-").FullName);
        Console.SetOut(stdout); Console.SetError(stderr);
        try { return (TransferKitCommand.RunAsync(args).GetAwaiter().GetResult(), stdout.ToString(), stderr.ToString()); }
        finally
        {
            Console.SetOut(o); Console.SetError(e);
            Environment.SetEnvironmentVariable(ModelCatalog.ModelsEnvironmentVariable, models);
            Environment.SetEnvironmentVariable(ModelResolver.CacheEnvironmentVariable, cache);
        }
    }

    [Theory]
    [InlineData("inspect", "--model", "mnist-8", "--json")]
    [InlineData("inspect", "mnist-8", "--json")]
    public void InspectTakesACatalogueName(params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(Path.GetFullPath(SharedAssets.Model("mnist-8.onnx")), doc.RootElement.GetProperty("file").GetString());
        var direct = Importers.Onnx.OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        Assert.Equal(direct.Graph.ParameterCount, doc.RootElement.GetProperty("parameters_total").GetInt64());
    }

    [Fact]
    public void VerifyTakesACatalogueName()
    {
        var (code, output, err) = Run("verify", "--model", "mnist-opset7", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("within_tolerance").GetBoolean());
    }

    [Fact]
    public void AnUnknownNameListsTheCatalogue()
    {
        var (code, _, err) = Run("bench", "--model", "resnet1000", "--iterations", "1");
        Assert.Equal(2, code);
        Assert.Contains("resnet1000", err);
        Assert.Contains("squeezenet1.1", err);
        var (both, _, bothErr) = Run("inspect", "mnist-8", "--model", "mnist-opset7");
        Assert.Equal(2, both);
        Assert.Contains("Two models", bothErr);
    }

    /// <summary>A few images per class copied from the shared hymenoptera set into train/ and val/.</summary>
    static string SmallDataset(int trainPerClass, int valPerClass)
    {
        var root = Directory.CreateTempSubdirectory("transferkit-small-data-").FullName;
        foreach (var (split, count) in new[] { ("train", trainPerClass), ("val", valPerClass) })
            foreach (var cls in new[] { "ants", "bees" })
            {
                var to = Directory.CreateDirectory(Path.Combine(root, split, cls)).FullName;
                foreach (var f in Directory.GetFiles(SharedAssets.Dataset(Path.Combine("hymenoptera_data", split, cls))).Order(StringComparer.Ordinal).Take(count))
                    File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
            }
        return root;
    }

    [Fact]
    public void FineTuneByNameExportsFoldedAndBakedModel()
    {
        var data = SmallDataset(6, 4);
        try
        {
            var output = Path.Combine(data, "run");
            var (code, stdout, err) = Run("finetune", "--model", "mobilenet_v2-bench", "--data", data, "--out", output, "--epochs", "1", "--batch", "4",
                "--augment", "none", "--cache-views", "1", "--fold-bn", "--bake-preprocess");
            // The job itself checks tuned.onnx against the native graph (raw images into the baked file) before keeping it.
            Assert.True(code == 0, err + stdout);
            var tuned = Importers.Onnx.OnnxImporter.Import(Path.Combine(output, "tuned.onnx"));
            Assert.False(tuned.OpHistogram.ContainsKey("BatchNormalization"));
            Assert.Equal(Importers.Onnx.Export.PreprocessBaking.RawRgbFormat, tuned.Metadata[Importers.Onnx.Export.PreprocessBaking.InputFormatKey]);
            Assert.Equal("input", tuned.Inputs[0].Name);
            Assert.Equal(2, tuned.Outputs[0].Dims[1]);
            // Images for the baked model are raw RGB 0–255, resized and cropped as for the base model.
            var raw = InputConvention.For(tuned, null).Preprocessing;
            Assert.Equal((Augment.Transforms.ValueRange.Byte, Augment.Transforms.ChannelOrder.Rgb, 224), (raw.Range, raw.Order, raw.CropSize));
            Assert.Equal([0f, 0f, 0f], raw.Mean);
            var (verified, _, verifyErr) = Run("verify", Path.Combine(output, "tuned.onnx"), "--input", Directory.GetFiles(Path.Combine(data, "val", "ants"))[0]);
            Assert.True(verified == 0, verifyErr);
        }
        finally { Directory.Delete(data, recursive: true); }
    }
}
