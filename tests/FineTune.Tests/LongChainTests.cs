using System.Diagnostics;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common.Onnx;

namespace TransferKit.FineTune.Tests;

/// <summary>A 200,000-node chain stored in reverse order: inspect and verify finish in seconds; above the node limit, a clear refusal.</summary>
[Collection("Console")]
public class LongChainTests
{
    const int Length = 200_000;
    /// <summary>
    /// Time inspect may take on the chain (it took over a minute when its op-support table scanned every node per
    /// node; now about 5 s), and verify (about 33 s on a loaded 2-core machine, most of it ONNX Runtime's session set-up).
    /// </summary>
    static readonly TimeSpan InspectLimit = TimeSpan.FromSeconds(30), VerifyLimit = TimeSpan.FromSeconds(90);

    static string Chain(int length)
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output($"v{length}", 1, 4);
        var nodes = Enumerable.Range(0, length).Select(i => new NodeProto { OpType = "Relu", Name = $"relu{i}", Input = { i == 0 ? "x" : $"v{i}" }, Output = { $"v{i + 1}" } }).ToList();
        nodes.Reverse();
        b.Graph.Node.AddRange(nodes);
        return b.Save("chain.onnx");
    }

    [Fact]
    public void InspectAndVerifyOfALongReversedChainFinishQuickly()
    {
        var path = Chain(Length);
        foreach (var verb in new[] { "inspect", "verify" })
        {
            var clock = Stopwatch.StartNew();
            var (code, output, error) = CliTests.Run(verb, path);
            Assert.True(code == 0, $"{verb}: exit {code}\n{output}\n{error}");
            Assert.True(clock.Elapsed < (verb == "inspect" ? InspectLimit : VerifyLimit), $"{verb} took {clock.Elapsed}");
        }
    }

    [Fact]
    public void AChainAboveTheNodeLimitIsRefusedAndTheLimitCanBeRaised()
    {
        var path = Chain(1000);
        var (code, _, error) = CliTests.Run("inspect", path, "--max-nodes", "999");
        Assert.Equal(2, code);
        Assert.Contains("1,000 nodes, more than the limit of 999", error);
        Assert.Equal(0, CliTests.Run("inspect", path, "--max-nodes", "1000").Code);
        var (budgetCode, _, budgetError) = CliTests.Run("verify", path, "--import-budget-mb", "0");
        Assert.Equal(2, budgetCode);
        Assert.Contains("--import-budget-mb", budgetError);
        Assert.True(ImportLimits.DefaultMaxNodes > Length);
    }
}
