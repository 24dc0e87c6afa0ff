using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Inference in chunks of images across threads (<see cref="SplitBatchPlan"/>) against the whole-batch plan on the
/// same rewritten graph: every image's outputs within verify's tolerance, in the right place, for chunks that do and do
/// not divide the batch; graphs whose nodes may mix images are not split.
/// </summary>
public class SplitBatchPlanTests
{
    public static IEnumerable<object[]> Cases() =>
        from model in new[] { "bench/squeezenet1_1.onnx", "fire-inception", "mobilenetv3-op", "efficientnet" }
        from chunk in new[] { 1, 2, 3 }
        select new object[] { model, chunk };

    static string PathOf(string name) => name switch
    {
        "mobilenetv3-op" => TestNets.MobileNetV3Small(opset: 14, form: HardSwishForm.Op, seed: 2, batchNormEverywhere: true),
        "efficientnet" => TestNets.EfficientNetB0(seed: 5),
        "fire-inception" => TestNets.FireAndInception(seed: 3),
        _ => SharedAssets.Model(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChunksAcrossThreadsGiveTheWholeBatchPlansOutputs(string name, int chunk)
    {
        var model = OnnxImporter.Import(PathOf(name));
        var inputs = Verifier.RandomInputs(model, 5, 11);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var graph = PlanOptimizer.Optimize(model.Graph, shapes);
        Assert.True(SplitBatchPlan.Splits(graph, shapes, out var reason), reason);
        var expected = new ExecutionPlan(graph, shapes).Run(inputs).Select(t => t.Span.ToArray()).ToArray();
        var split = new SplitBatchPlan(graph, shapes, threads: 2, chunk);
        Assert.Equal(chunk, split.Chunk);
        for (int run = 0; run < 2; run++)   // buffers reused by a second run
        {
            var actual = split.Run(inputs);
            Assert.Equal(expected.Length, actual.Length);
            for (int o = 0; o < actual.Length; o++)
            {
                Assert.Equal(model.Graph.Outputs[o].Name, graph.Outputs[o].Name);
                var c = Tolerance.Import.Compare(actual[o].Span, expected[o]);
                Assert.True(c.Within, $"{name}, chunk {chunk}, run {run}, output {o}: max abs {c.MaxAbs}, max rel {c.MaxRel}");
            }
        }
        // The images are told apart: the outputs of different images differ (a chunk written to the wrong place would show).
        int per = expected[0].Length / 5;
        Assert.False(expected[0].AsSpan(0, per).SequenceEqual(expected[0].AsSpan(per, per)));
    }

    /// <summary>A node that reads across the batch (a mean over images, a transpose of images and channels) keeps the graph whole.</summary>
    [Theory]
    [InlineData("batch-mean", "ReduceMean")]
    [InlineData("transpose", "at batch 1")]
    public void AGraphWhoseNodesMayMixImagesIsNotSplit(string form, string why)
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed: 1);
        var conv = n.Op("Relu", [n.Conv("image", 3, 4, 3, bias: true)]);
        string output;
        long[] dims;
        if (form == "batch-mean")
        {
            var mean = n.Op("ReduceMean", [conv], ModelBuilder.Ints("axes", 0), ModelBuilder.Int("keepdims", 1));
            output = n.Op("Sub", [conv, mean]);
            dims = [-1, 4, 8, 8];
        }
        else
        {
            output = n.Op("Transpose", [conv], ModelBuilder.Ints("perm", 1, 0, 2, 3));
            dims = [4, -1, 8, 8];
        }
        var model = OnnxImporter.Import(n.Save("image", [-1, 3, 8, 8], output, dims));
        var shapes = Verifier.RandomInputs(model, 4, 1).Select(t => t.ShapeArray).ToArray();
        var graph = PlanOptimizer.Optimize(model.Graph, shapes);
        Assert.False(SplitBatchPlan.Splits(graph, shapes, out var reason));
        Assert.Contains(why, reason);
        Assert.Throws<ArgumentException>(() => new SplitBatchPlan(graph, shapes, 2, 1));
        // The runner then runs the whole batch in one plan, with the same results.
        var inputs = Verifier.RandomInputs(model, 4, 2);
        var runner = new GraphRunner(model.Graph, optimize: true);
        var a = runner.Infer(inputs)[0].Span.ToArray();
        var b = runner.PlanFor(inputs).Run(inputs)[0].Span.ToArray();
        Assert.Equal(b, a);
    }
}
