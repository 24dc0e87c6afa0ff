using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Graph;

public class NameGlobTests
{
    [Theory]
    [InlineData("conv*", "conv1.weight", true)]
    [InlineData("conv*", "features.conv1", false)]
    [InlineData("*.bias", "features.3/conv.bias", true)]
    [InlineData("conv?.weight", "conv1.weight", true)]
    [InlineData("conv?.weight", "conv10.weight", false)]
    [InlineData("a.b", "axb", false)]
    [InlineData("w[0]+", "w[0]+", true)]
    [InlineData("w[0]+", "w0", false)]
    [InlineData("fc", "fc.weight", false)]
    [InlineData("FC*", "fc.weight", false)]
    [InlineData("*", "anything/at all", true)]
    public void MatchesWholeNamesWithStarAndQuestionMark(string pattern, string name, bool expected) =>
        Assert.Equal(expected, new NameGlob(pattern).IsMatch(name));

    [Fact]
    public void SelectsParametersByTheirNameOrByTheNodeReadingThem()
    {
        var g = new ComputeGraph();
        var x = g.AddInput("x", [-1, 2]);
        var w = g.AddParameter("lin.w", new Tensor(2, 2));
        var b = g.AddParameter("bias_of_lin", new Tensor(2));
        var y = g.AddNode("lin", new GemmOp(false, false, 1, 1), [x, w, b], ["y"]).Outputs[0];
        g.AddParameter("unused", new Tensor(1));
        g.MarkOutput(y);
        Assert.Equal(["lin.w", "bias_of_lin"], new NameGlob("lin").Select(g).Select(p => p.Name));
        Assert.Equal(["lin.w"], new NameGlob("lin.*").Select(g).Select(p => p.Name));
        Assert.Equal(["lin.w", "bias_of_lin", "unused"], new NameGlob("*").Select(g).Select(p => p.Name));
        Assert.Empty(new NameGlob("nothing*").Select(g));
        Assert.Throws<ArgumentException>(() => new NameGlob(""));
    }
}
