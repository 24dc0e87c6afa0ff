using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Split along an axis into parts of the given sizes. Gradient: dx = the concatenation of the g_i.</summary>
public sealed class SplitOp(int axis, int[] sizes) : Op
{
    public int Axis { get; } = axis;
    public int[] Sizes { get; } = sizes;
    public override string Type => "Split";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        int a = Shapes.NormalizeAxis(Axis, x.Length);
        if (Sizes.Sum() != x[a]) throw new ShapeException($"Split sizes [{string.Join(",", Sizes)}] do not add up to {x[a]}.");
        return Sizes.Select(s => { var r = (int[])x.Clone(); r[a] = s; return r; }).ToArray();
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0];
        int a = Shapes.NormalizeAxis(Axis, x.Rank);
        int outer = Shapes.Product(x.Shape, 0, a);
        int xRow = Shapes.Product(x.Shape, a, x.Rank);
        int offset = 0;
        foreach (var y in ctx.Outputs)
        {
            int row = Shapes.Product(y.Shape, a, y.Rank);
            for (int o = 0; o < outer; o++) Array.Copy(x.Data, o * xRow + offset, y.Data, o * row, row);
            offset += row;
        }
    }

    public override bool HasBackward => true;

    /// <summary>Backward stitches the output gradients together; it reads no values.</summary>
    public override bool BackwardReadsInput(int input) => false;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        int a = Shapes.NormalizeAxis(Axis, gx.Rank);
        int outer = Shapes.Product(gx.Shape, 0, a);
        int xRow = Shapes.Product(gx.Shape, a, gx.Rank);
        int offset = 0;
        foreach (var g in ctx.OutputGrads)
        {
            int row = Shapes.Product(g.Shape, a, g.Rank);
            for (int o = 0; o < outer; o++)
                System.Numerics.Tensors.TensorPrimitives.Add(gx.Data.AsSpan(o * xRow + offset, row), g.Data.AsSpan(o * row, row), gx.Data.AsSpan(o * xRow + offset, row));
            offset += row;
        }
    }

    public override string Describe() => $"Split(axis={Axis}, [{string.Join(",", Sizes)}])";
}
