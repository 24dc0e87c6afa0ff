using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Shape ops on the data path and targets computed from the input's run-time shape: a cls token expanded to the batch
/// (as the ViT exporters write it, and through PyTorch's <c>expand(B, -1, -1)</c> with Where), a token tiled to the
/// batch, a Reshape to <c>[batch, -1]</c> built from <c>Shape</c>, Gather and Slice on run-time tensors. Imported at
/// batch 1, each must match ONNX Runtime at other batches.
/// </summary>
public class RuntimeShapeTests
{
    const int Tokens = 3, Width = 4;

    /// <summary>x [N, Tokens, Width] → Concat(token expanded to [N, 1, Width], x) along the tokens, then Slice/Gather on it.</summary>
    static string ClsModel(string form, int opset = 17)
    {
        var n = new NetBuilder(opset, weightsAsConstants: false, seed: 2);
        var cls = n.Tensor("cls_token", [1, 1, Width], n.Gaussian(Width, 1));
        var batch = n.Op("Unsqueeze", [n.Op("Gather", [n.Op("Shape", ["x"]), n.Longs("index", [0], [])], ModelBuilder.Int("axis", 0)), n.Longs("axes", [0])]);
        string expanded = form switch
        {
            "expand" => n.Op("Expand", [cls, n.Op("Concat", [batch, n.Longs("ones", [1, 1])], ModelBuilder.Int("axis", 0))]),
            // torch.onnx's expand(B, -1, -1): the -1 entries replaced by 1 through Where(Equal(size, -1), ones, size).
            "expand-where" => ExpandWhere(n, cls, n.Op("Concat", [batch, n.Longs("minus", [-1, -1])], ModelBuilder.Int("axis", 0))),
            "tile" => n.Op("Tile", [cls, n.Op("Concat", [batch, n.Longs("ones", [1, 1])], ModelBuilder.Int("axis", 0))]),
            _ => throw new ArgumentException(form),
        };
        var h = n.Op("Concat", [expanded, "x"], ModelBuilder.Int("axis", 1));
        var tail = n.Op("Slice", [h, n.Longs("starts", [1]), n.Longs("ends", [long.MaxValue]), n.Longs("axes", [1]), n.Longs("steps", [2])]);
        var picked = n.Op("Gather", [h, n.Longs("pick", [0], [])], ModelBuilder.Int("axis", 1));
        var y = n.Op("Add", [n.Op("Flatten", [tail], ModelBuilder.Int("axis", 1)), n.Op("Tile", [picked, n.Longs("reps", [1, 2])])]);
        return n.Save("x", [-1, Tokens, Width], y, [-1, 2 * Width]);
    }

    static string ExpandWhere(NetBuilder n, string data, string size)
    {
        var ones = n.Op("ConstantOfShape", [n.Op("Shape", [size])], new global::Onnx.AttributeProto
        {
            Name = "value", Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor,
            T = new global::Onnx.TensorProto { DataType = (int)global::Onnx.TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 1 } },
        });
        var minusOnes = n.Op("Mul", [ones, n.Longs("minus_one", [-1], [])]);
        var fixedSize = n.Op("Where", [n.Op("Equal", [size, minusOnes]), ones, size]);
        return n.Op("Expand", [data, fixedSize]);
    }

    [Theory]
    [InlineData("expand")]
    [InlineData("expand-where")]
    [InlineData("tile")]
    public void ClsTokenFollowsTheBatch(string form)
    {
        var m = OnnxImporter.Import(ClsModel(form));
        foreach (var batch in new[] { 1, 3, 5 })
        {
            var r = Verifier.Verify(m, Verifier.RandomInputs(m, batch, seed: batch));
            Assert.True(r.WithinTolerance, $"{form} batch {batch}: " + string.Join("; ", r.Outputs.Select(o => $"{o.Name} {string.Join("x", o.Shape)} max_abs {o.MaxAbs:E3}")));
            Assert.Equal([batch, 2 * Width], r.Outputs[0].Shape);
        }
        // The token is a trainable parameter read at run time; the shape arithmetic left no parameter behind.
        var token = Assert.Single(m.Graph.Parameters, p => p.Name.StartsWith("cls_token"));
        Assert.True(token.Trainable && !token.IsConstant);
        Assert.All(m.Graph.Parameters.Where(p => p != token), p => Assert.True(p.IsConstant || p.Value.Length == 1, p.Name));
        var node = Assert.Single(m.Graph.Nodes, nd => nd.Op is ExpandOp or TileOp && nd.Inputs[0].Parameter == token);
        Assert.Equal("x", node.Inputs[1].Name);
    }

    [Fact]
    public void EveryRunTimeNodeMatchesOnnxRuntimeOnItsOwn()
    {
        // Per node: the shape arithmetic folded at import has no run-time value to compare; every run-time op has.
        var m = OnnxImporter.Import(ClsModel("expand-where"));
        var r = Verifier.Verify(m, Verifier.RandomInputs(m, 3, seed: 2), perNode: true);
        Assert.True(r.WithinTolerance, $"first divergent node {r.FirstDivergentNode}");
        Assert.Contains(m.Graph.Nodes, nd => nd.Op is ExpandOp);
        Assert.Contains(m.Graph.Nodes, nd => nd.Op is GatherOp);
        Assert.Contains(m.Graph.Nodes, nd => nd.Op is SliceOp);
    }

    [Fact]
    public void ClsTokenGetsTheGradientSummedOverTheBatch()
    {
        var m = OnnxImporter.Import(ClsModel("expand"));
        var token = m.Graph.Parameters.Single(p => p.Name.StartsWith("cls_token"));
        var x = Verifier.RandomInputs(m, 4, seed: 3);
        var plan = new TrainingPlan(m.Graph, x.Select(t => t.ShapeArray).ToArray());
        var y = plan.Forward(x)[0];
        // L = Σ y: y = tail + tiled pick, and the pick is the token (twice per row): dL/dtoken = 2·batch per element.
        var g = new Toolkit.Tensors.Tensor(y.ShapeArray);
        g.Span.Fill(1);
        plan.Backward([g]);
        Assert.All(token.Grad!.Span.ToArray(), v => Assert.Equal(2 * 4, v));
    }

    [Fact]
    public void ReshapeToTheBatchReadFromShapeFollowsIt()
    {
        // Reshape(Transpose(x) [T, N, W], [T, Shape(x)[0], W]): the batch read at run time, not the import batch of 1,
        // in a place where no leading dimension copies it.
        var n = new NetBuilder(13, weightsAsConstants: false);
        var batch = n.Op("Unsqueeze", [n.Op("Gather", [n.Op("Shape", ["x"]), n.Longs("index", [0], [])], ModelBuilder.Int("axis", 0)), n.Longs("axes", [0])]);
        var target = n.Op("Concat", [n.Longs("tokens", [Tokens]), batch, n.Longs("width", [Width])], ModelBuilder.Int("axis", 0));
        var y = n.Op("Reshape", [n.Op("Transpose", ["x"], ModelBuilder.Ints("perm", 1, 0, 2)), target]);
        var m = OnnxImporter.Import(n.Save("x", [-1, Tokens, Width], y, [Tokens, -1, Width]));
        var reshape = m.Graph.Nodes.Single(nd => nd.Op is ReshapeOp);
        Assert.Equal(DimRule.Infer, ((ReshapeOp)reshape.Op).Target[1]);
        var r = Verifier.Verify(m, Verifier.RandomInputs(m, 6, seed: 1));
        Assert.True(r.WithinTolerance, $"max_abs {r.Outputs[0].MaxAbs:E3}");
        Assert.Equal([Tokens, 6, Width], r.Outputs[0].Shape);
    }

    [Fact]
    public void AttentionReshapesToMultiplesOfTheBatchFollowIt()
    {
        // As torch.onnx writes nn.MultiheadAttention: [T, N, W] viewed as [T, N·heads, W/heads] and back through
        // [T·N, W] and [T, N, W], every size computed from Shape(x)[0] times a constant.
        const int heads = 2;
        var n = new NetBuilder(13, weightsAsConstants: false);
        var batch = n.Op("Unsqueeze", [n.Op("Gather", [n.Op("Shape", ["x"]), n.Longs("index", [0], [])], ModelBuilder.Int("axis", 0)), n.Longs("axes", [0])]);
        string Target(params string[] parts) => n.Op("Concat", parts, ModelBuilder.Int("axis", 0));
        var t = n.Op("Transpose", ["x"], ModelBuilder.Ints("perm", 1, 0, 2));
        var split = n.Op("Reshape", [t, Target(n.Longs("tokens", [Tokens]), n.Op("Mul", [batch, n.Longs("heads", [heads])]), n.Longs("head_dim", [Width / heads]))]);
        var u = n.Op("Transpose", [split], ModelBuilder.Ints("perm", 1, 0, 2));
        var scores = n.Op("Softmax", [n.Op("MatMul", [u, n.Op("Transpose", [u], ModelBuilder.Ints("perm", 0, 2, 1))])], ModelBuilder.Int("axis", -1));
        var a = n.Op("Transpose", [n.Op("MatMul", [scores, u])], ModelBuilder.Ints("perm", 1, 0, 2));
        var flat = n.Op("Reshape", [a, Target(n.Op("Mul", [n.Longs("tokens2", [Tokens]), batch]), n.Longs("width", [Width]))]);
        var back = n.Op("Reshape", [flat, Target(n.Longs("tokens3", [Tokens]), batch, n.Longs("width2", [Width]))]);
        var y = n.Op("Transpose", [back], ModelBuilder.Ints("perm", 1, 0, 2));
        var m = OnnxImporter.Import(n.Save("x", [-1, Tokens, Width], y, [-1, Tokens, Width]));
        var reshapes = m.Graph.Nodes.Where(nd => nd.Op is ReshapeOp).Select(nd => ((ReshapeOp)nd.Op).Target).ToList();
        Assert.Equal(3, reshapes.Count);
        Assert.Equal(DimRule.Infer, reshapes[0][1]);
        Assert.Equal(DimRule.Infer, reshapes[1][0]);
        Assert.Equal(DimRule.Infer, reshapes[2][1]);
        foreach (var b in new[] { 1, 3 })
        {
            var r = Verifier.Verify(m, Verifier.RandomInputs(m, b, seed: 8));
            Assert.True(r.WithinTolerance, $"batch {b}: max_abs {r.Outputs[0].MaxAbs:E3}");
            Assert.Equal([b, Tokens, Width], r.Outputs[0].Shape);
        }
    }

    [Fact]
    public void SliceInAttributeFormRunsOnARunTimeTensor()
    {
        // Opset 9: starts/ends/axes as attributes; negative start, clamped end.
        var n = new NetBuilder(9, weightsAsConstants: false);
        var y = n.Op("Slice", ["x"], ModelBuilder.Ints("starts", -2, 1), ModelBuilder.Ints("ends", 1000, 3), ModelBuilder.Ints("axes", 2, 1));
        var m = OnnxImporter.Import(n.Save("x", [-1, Tokens, Width], y, [-1, 2, 2]));
        Assert.Contains(m.Graph.Nodes, nd => nd.Op is SliceOp);
        var r = Verifier.Verify(m, Verifier.RandomInputs(m, 3, seed: 4));
        Assert.True(r.WithinTolerance, $"max_abs {r.Outputs[0].MaxAbs:E3}");
        Assert.Equal([3, 2, 2], r.Outputs[0].Shape);
    }

    [Fact]
    public void GatherWithRunTimeIndicesIsRefusedNamingTheNode()
    {
        var n = new NetBuilder(13, weightsAsConstants: false);
        var table = n.Tensor("table", [5, Width], n.Gaussian(5 * Width, 1));
        var y = n.Op("Gather", [table, "x"], ModelBuilder.Int("axis", 0));
        var file = n.Save("x", [-1, Tokens], y, [-1, Tokens, Width], "gather-indices.onnx");
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(file));
        Assert.Contains("gather-indices.onnx", e.Message);
        Assert.Contains("Gather (opset 13)", e.Message);
        Assert.Contains("gather_", e.Message);
        Assert.Contains("must be a constant", e.Message);
    }

    [Fact]
    public void ExpandAndTileOfIntegerConstantsFoldExactlyWithTheirBatchMark()
    {
        // 2^24 + 1 has no float32: the fold moves positions, never the values, so integers stay exact.
        var c = new ConstTensor(OnnxDataType.Int64, [1, 2], [16777217, -3]) { BatchFactor = [1, 0], BatchSource = "x" };
        var tiled = ConstEval.Move(c, new TileOp([DimRule.Of(2), DimRule.Of(2)]));
        Assert.Equal(OnnxDataType.Int64, tiled.Type);
        Assert.Equal([2, 4], tiled.Dims);
        Assert.Equal([16777217, -3, 16777217, -3, 16777217, -3, 16777217, -3], tiled.Data);
        Assert.Equal([1, 0, 1, 0, 1, 0, 1, 0], tiled.BatchFactor!);
        Assert.Equal("x", tiled.BatchSource);
        var expanded = ConstEval.Move(c, new ExpandOp([DimRule.Of(3), DimRule.Of(1)]));
        Assert.Equal([3, 2], expanded.Dims);
        Assert.Equal([16777217, -3, 16777217, -3, 16777217, -3], expanded.Data);
        Assert.Equal([1, 0, 1, 0, 1, 0], expanded.BatchFactor!);
    }
}
