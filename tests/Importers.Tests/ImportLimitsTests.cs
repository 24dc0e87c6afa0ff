using System.Diagnostics;
using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;

namespace TransferKit.Importers.Tests;

/// <summary>
/// The import's limits (<see cref="ImportLimits"/>): constants above the memory budget — declared initializers, all
/// initializers together, and constants folded at import — are refused before they are allocated, naming the tensor
/// or node and the size; the budget and the node-count limit can be raised; a long chain imports in linear time.
/// </summary>
public class ImportLimitsTests
{
    /// <summary>What a refused import may allocate in all (the budget is far above it: nothing of the refused size is allocated).</summary>
    const long RefusalAllocationLimit = 64L << 20;

    static OnnxImportException RefusedWithoutAllocating(string path, ImportLimits? limits = null)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(path, limits ?? new ImportLimits()));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < RefusalAllocationLimit, $"the refused import allocated {allocated:N0} bytes");
        Assert.Contains("import memory budget", e.Message);
        Assert.Contains("--import-budget-mb", e.Message);
        return e;
    }

    static string ConstantOfShapeModel(long rows, long cols)
    {
        var b = new ModelBuilder().Input("x", 1, cols).Output("y", rows, cols);
        var shape = new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(2);
        shape.Int64Data.AddRange([rows, cols]);
        b.Graph.Initializer.Add(shape);
        b.Node("ConstantOfShape", ["s"], ["big"], "filler");
        b.Node("Add", ["x", "big"], ["y"], "adder");
        return b.Save();
    }

    [Fact]
    public void AConstantOfShapeAboveTheBudgetIsRefusedNamingTheNodeAndSize()
    {
        var e = RefusedWithoutAllocating(ConstantOfShapeModel(30000, 30000));
        Assert.Contains("node 'filler'", e.Message);
        Assert.Contains("[30000,30000]", e.Message);
        Assert.Contains("900,000,000 elements", e.Message);
    }

    [Fact]
    public void ADeclaredInitializerAboveTheBudgetIsRefusedBeforeReadingIt()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[64]) };
        w.Dims.AddRange([64L, 3, 3000, 3000]);
        b.Graph.Initializer.Add(w);
        b.Node("Add", ["x", "w"], ["y"], "adder");
        var e = RefusedWithoutAllocating(b.Save());
        Assert.Contains("initializer 'w' [64,3,3000,3000]", e.Message);
        Assert.Contains("1,728,000,000 elements", e.Message);
    }

    [Fact]
    public void TheBudgetIsRaisedOrLoweredByOption()
    {
        var path = ConstantOfShapeModel(1000, 1000);   // 10^6 elements, 7.6 MiB as held
        OnnxImporter.Import(path);
        var tight = new ImportLimits { MemoryBudgetBytes = 1 << 20 };
        Assert.Contains("node 'filler'", RefusedWithoutAllocating(path, tight).Message);

        // All initializers together count: three of 0.4 MiB fit one by one but not together under 1 MiB.
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        for (int i = 0; i < 3; i++) b.Initializer($"w{i}", [1, 4, 12800], new float[4 * 12800]);
        b.Node("Add", ["x", "w0"], ["y"], "adder");
        var e = RefusedWithoutAllocating(b.Save(), tight);
        Assert.Contains("initializer 'w2'", e.Message);
        Assert.Contains("with the initializers before it", e.Message);
    }

    static ModelBuilder Chain(int length, bool reversed)
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output($"v{length}", 1, 4);
        var nodes = Enumerable.Range(0, length).Select(i => new NodeProto { OpType = "Relu", Name = $"relu{i}", Input = { i == 0 ? "x" : $"v{i}" }, Output = { $"v{i + 1}" } }).ToList();
        if (reversed) nodes.Reverse();
        b.Graph.Node.AddRange(nodes);
        return b;
    }

    [Fact]
    public void TheNodeCountLimitIsNamedAndCanBeRaised()
    {
        var path = Chain(50, reversed: false).Save();
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(path, new ImportLimits { MaxNodes = 49 }));
        Assert.Contains("50 nodes", e.Message);
        Assert.Contains("limit of 49", e.Message);
        Assert.Contains("--max-nodes", e.Message);
        Assert.Equal(50, OnnxImporter.Import(path, new ImportLimits { MaxNodes = 50 }).Graph.Nodes.Count);
        Assert.True(ImportLimits.DefaultMaxNodes >= 200_000);
    }

    [Fact]
    public void ALongChainStoredInReverseImportsInLinearTime()
    {
        // Linear: 10× the nodes may take at most LinearFactor × 10 the time (quadratic would be 100×).
        const int Small = 20_000, Large = 200_000;
        const double LinearFactor = 3;
        var small = Chain(Small, reversed: true).Save();
        var large = Chain(Large, reversed: true).Save();
        OnnxImporter.Import(small);   // warm-up
        var clock = Stopwatch.StartNew();
        Assert.Equal(Small, OnnxImporter.Import(small).Graph.Nodes.Count);
        var tSmall = clock.Elapsed;
        clock.Restart();
        Assert.Equal(Large, OnnxImporter.Import(large).Graph.Nodes.Count);
        var tLarge = clock.Elapsed;
        Assert.True(tLarge.TotalSeconds < Math.Max(LinearFactor * 10 * tSmall.TotalSeconds, 1.0),
            $"{Small:N0} nodes took {tSmall.TotalSeconds:F2} s, {Large:N0} took {tLarge.TotalSeconds:F2} s");
    }
}
