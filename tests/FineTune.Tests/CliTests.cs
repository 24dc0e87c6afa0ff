using System.Text.Json;
using TransferKit.FineTune.Cli;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>The command line as a user runs it: exit codes, JSON fields, --help and errors.</summary>
[Collection("Console")]
public class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        var (o, e) = (Console.Out, Console.Error);
        Console.SetOut(stdout); Console.SetError(stderr);
        try { return (TransferKitCommand.RunAsync(args).GetAwaiter().GetResult(), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    [Fact]
    public void VerifyJsonReportsParity()
    {
        var (code, output, _) = Run("verify", SharedAssets.Model("mnist-8.onnx"), "--random", "--batch", "3", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("within_tolerance").GetBoolean());
        Assert.True(root.GetProperty("max_abs").GetDouble() < 1e-4);
        Assert.True(root.GetProperty("max_rel").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("first_divergent_node").ValueKind);
        Assert.Equal(3, root.GetProperty("batch").GetInt32());
    }

    [Fact]
    public void VerifyPerNodeComparesIntermediates()
    {
        var (code, output, _) = Run("verify", SharedAssets.Model("cifar10_tutorial_ImageClassifier.onnx"), "--per-node", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("nodes_compared").GetInt32() > 5);
    }

    [Fact]
    public void ErrorsExitWithTwoAndNameTheFile()
    {
        var (code, _, err) = Run("verify", "/nonexistent/model.onnx");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/model.onnx", err);
        var (usage, _, usageErr) = Run("verify", "--batch", "x");
        Assert.Equal(2, usage);
        Assert.Contains("error", usageErr);
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("inspect")]
    [InlineData("bench")]
    [InlineData("finetune")]
    [InlineData("bench-data")]
    [InlineData("augment-preview")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    public void EveryVerbHasHelp(string verb)
    {
        var (code, output, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage", output);
    }

    [Fact]
    public void InspectListsParametersAndOpSupport()
    {
        var (code, output, _) = Run("inspect", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(1235496, root.GetProperty("parameters_total").GetInt64());
        Assert.Equal(7, root.GetProperty("opset").GetInt32());
        Assert.Equal(26, root.GetProperty("op_histogram").GetProperty("Conv").GetInt32());
        Assert.All(root.GetProperty("op_support").EnumerateArray(), op => Assert.True(op.GetProperty("forward").GetBoolean()));
    }
}
