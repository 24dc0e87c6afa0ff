using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Ops;

namespace TransferKit.FineTune.Tests;

public class DropoutSeedTests
{
    static ulong[] Seeds(int seed, int phase)
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        JobSetup.SeedDropout(m.Graph, seed, phase);
        return m.Graph.Nodes.Select(n => n.Op).OfType<DropoutOp>().Select(d => d.Seed).ToArray();
    }

    [Fact]
    public void DropoutMasksDependOnTheRunSeedAndThePhase()
    {
        var a = Seeds(0, 0);
        Assert.NotEmpty(a);
        Assert.Equal(a, Seeds(0, 0));
        Assert.NotEqual(a, Seeds(1, 0));
        Assert.NotEqual(a, Seeds(0, 1));
        // The masks themselves differ, not only the seeds.
        var d0 = new DropoutOp(0.5f) { Seed = a[0] };
        var d1 = new DropoutOp(0.5f) { Seed = Seeds(1, 0)[0] };
        int differ = Enumerable.Range(0, 1000).Count(i => d0.Keep(3, i) != d1.Keep(3, i));
        Assert.InRange(differ, 400, 600);
    }
}
