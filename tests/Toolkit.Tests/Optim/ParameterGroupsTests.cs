using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Optim;

/// <summary>Name-pattern parameter groups: first rule wins, every trainable parameter in exactly one group.</summary>
public class ParameterGroupsTests
{
    /// <summary>x → body.0 (Gemm) → body.1 (Gemm) → head (Gemm), each with a weight and a bias.</summary>
    static ComputeGraph Net()
    {
        var g = new ComputeGraph();
        var v = g.AddInput("x", [-1, 3]);
        foreach (var layer in new[] { "body.0", "body.1", "head" })
        {
            var w = g.AddParameter($"{layer}.weight", new Tensor(3, 3));
            var b = g.AddParameter($"{layer}.bias", new Tensor(3));
            v = g.AddNode(layer, new GemmOp(false, false, 1, 1), [v, w, b], [$"{layer}.out"]).Outputs[0];
        }
        g.MarkOutput(v);
        return g;
    }

    static string[] Names(ParameterGroup g) => g.Parameters.Select(p => p.Name).ToArray();

    [Fact]
    public void FirstMatchingRuleWinsAndTheRestIsDefault()
    {
        var g = Net();
        var groups = ParameterGroups.ByPattern(g, 1e-4f, 1e-5f, ("head", 1e-2f, 0f), ("*.bias", 1e-3f, 0f), ("body.1*", 5e-4f, 1e-4f));
        Assert.Equal(["head", "*.bias", "body.1*", ParameterGroups.DefaultName], groups.Select(x => x.Name));
        Assert.Equal(["head.weight", "head.bias"], Names(groups[0]));
        Assert.Equal(["body.0.bias", "body.1.bias"], Names(groups[1]));
        Assert.Equal(["body.1.weight"], Names(groups[2]));
        Assert.Equal(["body.0.weight"], Names(groups[3]));
        Assert.Equal([1e-2f, 1e-3f, 5e-4f, 1e-4f], groups.Select(x => x.LearningRate));
        Assert.Equal([0f, 0f, 1e-4f, 1e-5f], groups.Select(x => x.WeightDecay));
        Assert.Equal(groups.Select(x => x.LearningRate), groups.Select(x => x.BaseLearningRate));
    }

    [Fact]
    public void EveryTrainableParameterLandsInExactlyOneGroup()
    {
        var g = Net();
        g.Find("body.0.weight")!.Parameter!.Trainable = false;
        g.Find("body.0.bias")!.Parameter!.Trainable = false;
        var groups = ParameterGroups.ByPattern(g, 1e-3f, 0f, ("body*", 1e-4f, 0f), ("*.weight", 1e-2f, 0f), ("body.1", 1f, 0f));
        var grouped = groups.SelectMany(x => x.Parameters).ToList();
        Assert.Equal(grouped.Count, grouped.Distinct().Count());
        Assert.Equal(g.Parameters.Where(p => p.Trainable).OrderBy(p => p.Name), grouped.OrderBy(p => p.Name));
        Assert.DoesNotContain(grouped, p => !p.Trainable);
        // "body.1" is shadowed by "body*" and takes nothing, so it is left out.
        Assert.Equal(["body*", "*.weight", ParameterGroups.DefaultName], groups.Select(x => x.Name));
        Assert.Equal(["body.1.weight", "body.1.bias"], Names(groups[0]));
        Assert.Equal(["head.weight"], Names(groups[1]));
        Assert.Equal(["head.bias"], Names(groups[2]));
        // With every parameter taken by a rule, there is no default group.
        Assert.DoesNotContain(ParameterGroups.ByPattern(g, 1e-3f, 0f, ("*", 1e-4f, 0f)), x => x.Name == ParameterGroups.DefaultName);
    }

    [Fact]
    public void AGlobThatMatchesNothingIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => ParameterGroups.ByPattern(Net(), 1e-3f, 0f, ("haed*", 1e-2f, 0f)));
        Assert.Contains("haed*", e.Message);
        Assert.Throws<ArgumentException>(() => ParameterGroups.ByPattern(Net(), 1e-3f, 0f, ("head", -1f, 0f)));
        Assert.Throws<ArgumentException>(() => ParameterGroups.ByPattern(Net(), float.NaN, 0f));
    }

    [Fact]
    public void ParameterListsMatchByParameterNameOnly()
    {
        var g = Net();
        // "head" is a node name: without the graph no parameter is called that.
        Assert.Throws<ArgumentException>(() => ParameterGroups.ByPattern(g.Parameters, 1e-3f, 0f, ("head", 1e-2f, 0f)));
        var groups = ParameterGroups.ByPattern(g.Parameters, 1e-3f, 0f, ("head.*", 1e-2f, 0f));
        Assert.Equal(["head.weight", "head.bias"], Names(groups[0]));
        Assert.Equal(4, groups[1].Parameters.Length);
    }

    [Fact]
    public void AnOptimizerStepsEachGroupAtItsOwnRate()
    {
        var g = Net();
        foreach (var p in g.Parameters) p.Grad = new Tensor(p.Value.ShapeArray, Enumerable.Repeat(1f, p.Value.Length).ToArray());
        var sgd = new Sgd(ParameterGroups.ByPattern(g, 0.01f, 0f, ("head", 0.5f, 0f)));
        sgd.Step();
        Assert.All(g.Find("head.weight")!.Parameter!.Value.Span.ToArray(), v => Assert.Equal(-0.5f, v));
        Assert.All(g.Find("body.0.bias")!.Parameter!.Value.Span.ToArray(), v => Assert.Equal(-0.01f, v));
    }
}
