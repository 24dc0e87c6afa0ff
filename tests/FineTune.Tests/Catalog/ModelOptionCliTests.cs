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
}
