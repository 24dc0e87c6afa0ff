using System.Numerics.Tensors;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Gather along one axis with indices fixed when the graph is built (ONNX Gather whose indices are constants, e.g. the
/// cls-token pick <c>Gather(x, 0, axis=1)</c>): y[o, j…, i] = x[o, idx[j…], i], where o runs over the axes before
/// <see cref="Axis"/> and i over those after it. A negative index counts from the end of the axis; a scalar index
/// (<see cref="IndexShape"/> = []) removes the axis. Gradient: dx = zeros with g's rows scatter-added at the picked
/// positions (an index picked twice receives both rows).
/// </summary>
public sealed class GatherOp : Op
{
    /// <summary>Gathers along <paramref name="axis"/> at <paramref name="indices"/>, laid out in <paramref name="indexShape"/>.</summary>
    public GatherOp(int axis, long[] indices, int[] indexShape)
    {
        if (Shapes.ElementCount(indexShape) != indices.Length)
            throw new ArgumentException($"Gather has {indices.Length} indices for the index shape {Shapes.Format(indexShape)}.");
        Axis = axis;
        Indices = indices;
        IndexShape = indexShape;
    }

    /// <summary>The axis gathered along (negative counts from the end).</summary>
    public int Axis { get; }
    /// <summary>The indices, row-major in <see cref="IndexShape"/>; negative ones count from the end of the axis.</summary>
    public long[] Indices { get; }
    /// <summary>The indices' shape, which replaces the gathered axis in the output.</summary>
    public int[] IndexShape { get; }
    public override string Type => "Gather";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        if (x.Length == 0) throw new ShapeException("Gather on a scalar.");
        int a = Shapes.NormalizeAxis(Axis, x.Length);
        foreach (var i in Indices)
            if (i < -x[a] || i >= x[a]) throw new ShapeException($"Gather index {i} is out of range for axis {a} of size {x[a]}.");
        return [[.. x[..a], .. IndexShape, .. x[(a + 1)..]]];
    }

    /// <summary>The index into the axis of size <paramref name="length"/> that entry <paramref name="j"/> picks.</summary>
    int Picked(int j, int length) => (int)(Indices[j] < 0 ? Indices[j] + length : Indices[j]);

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        int a = Shapes.NormalizeAxis(Axis, x.Rank);
        int outer = Shapes.Product(x.Shape, 0, a), len = x.Shape[a], inner = Shapes.Product(x.Shape, a + 1, x.Rank);
        var xs = x.Span; var ys = y.Span;
        for (int o = 0, dst = 0; o < outer; o++)
            for (int j = 0; j < Indices.Length; j++, dst += inner)
                xs.Slice((o * len + Picked(j, len)) * inner, inner).CopyTo(ys.Slice(dst, inner));
    }

    public override bool HasBackward => true;

    // Only the shape of x is needed; y is never read.
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0].Span;
        int a = Shapes.NormalizeAxis(Axis, gx.Rank);
        int outer = Shapes.Product(gx.Shape, 0, a), len = gx.Shape[a], inner = Shapes.Product(gx.Shape, a + 1, gx.Rank);
        var gs = gx.Span;
        for (int o = 0, src = 0; o < outer; o++)
            for (int j = 0; j < Indices.Length; j++, src += inner)
            {
                var row = gs.Slice((o * len + Picked(j, len)) * inner, inner);
                TensorPrimitives.Add(row, g.Slice(src, inner), row);
            }
    }

    public override string Describe() => $"Gather(axis={Axis}, [{string.Join(",", Indices.Take(8))}{(Indices.Length > 8 ? ",…" : "")}]{Shapes.Format(IndexShape)})";
}
