using System.Text.Json;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Tests;

/// <summary><c>verify --grad --per-node</c> as a user runs it: exit codes, JSON fields, the bound on directions.</summary>
[Collection("Console")]
public class GradPerNodeCliTests
{
    [Fact]
    public void JsonListsEveryBackwardNodeAndNamesNoneOnACleanModel()
    {
        var (code, output, err) = CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--grad", "--per-node", "--batch", "3", "--json");
        Assert.True(code == 0, err + output);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("grad-per-node", root.GetProperty("mode").GetString());
        Assert.True(root.GetProperty("within_tolerance").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("first_divergent_backward_node").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("first_divergent_backward_op_type").ValueKind);
        Assert.Equal(NodeGradientCheck.DefaultDirections, root.GetProperty("directions").GetInt32());
        var nodes = root.GetProperty("nodes").EnumerateArray().ToList();
        // Conv, Add, Relu, MaxPool twice, then Reshape, MatMul, Add: every node of mnist-8 trains.
        Assert.Equal(11, nodes.Count);
        Assert.Equal(nodes.Select(n => n.GetProperty("index").GetInt32()).Order(), nodes.Select(n => n.GetProperty("index").GetInt32()));
        foreach (var n in nodes)
        {
            if (n.GetProperty("output").ValueKind != JsonValueKind.Null) Assert.True(n.GetProperty("output").GetProperty("passed").GetBoolean(), n.GetProperty("node").GetString());
            Assert.All(n.GetProperty("inputs").EnumerateArray(), e => Assert.True(e.GetProperty("passed").GetBoolean()));
        }
        Assert.Contains(nodes, n => n.GetProperty("op_type").GetString() == "Conv" && n.GetProperty("inputs").GetArrayLength() == 2);
    }

    [Fact]
    public void MoreDirectionsThanTheBoundAreRefused()
    {
        var (code, _, err) = CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--grad", "--per-node", "--directions", (NodeGradientCheck.MaxDirections + 1).ToString());
        Assert.Equal(2, code);
        Assert.Contains($"at most {NodeGradientCheck.MaxDirections} directions", err);
    }

    [Fact]
    public void MaxParamsIsRefused()
    {
        var (code, _, err) = CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--grad", "--per-node", "--max-params", "2");
        Assert.Equal(2, code);
        Assert.Contains("--max-params", err);
    }

    [Fact]
    public void PerNodeWithoutGradStillComparesWithOnnxRuntime()
    {
        var (code, output, _) = CliTests.Run("verify", SharedAssets.Model("mnist-8.onnx"), "--per-node", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.False(doc.RootElement.TryGetProperty("mode", out _));
        Assert.True(doc.RootElement.GetProperty("nodes_compared").GetInt32() > 5);
    }
}
