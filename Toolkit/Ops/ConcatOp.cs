using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Concat along an axis. Gradient: each dx_i = the slice of g that x_i filled.</summary>
public sealed class ConcatOp(int axis) : Op
{
    public int Axis { get; } = axis;
    public override string Type => "Concat";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var first = inputs[0];
        int a = Shapes.NormalizeAxis(Axis, first.Length);
        var r = (int[])first.Clone();
        r[a] = 0;
        foreach (var s in inputs)
        {
            if (s.Length != first.Length) throw new ShapeException("Concat inputs differ in rank.");
            for (int d = 0; d < s.Length; d++)
                if (d != a && s[d] != first[d]) throw new ShapeException($"Concat inputs differ outside axis {a}.");
            r[a] += s[a];
        }
        return [r];
    }

    public override void Forward(OpContext ctx)
    {
        var y = ctx.Outputs[0];
        int a = Shapes.NormalizeAxis(Axis, y.Rank);
        int outer = Shapes.Product(y.Shape, 0, a);
        int yRow = Shapes.Product(y.Shape, a, y.Rank);
        int offset = 0;
        foreach (var x in ctx.Inputs)
        {
            int row = Shapes.Product(x.Shape, a, x.Rank);
            for (int o = 0; o < outer; o++) Array.Copy(x.Data, o * row, y.Data, o * yRow + offset, row);
            offset += row;
        }
    }

    public override bool HasBackward => true;

    /// <summary>A copy: replayed by the forward pass.</summary>
    public override bool CanReplay => true;

    public override bool OverwritesInputGrad(int input) => true;

    /// <summary>Backward slices the output gradient; it reads no values.</summary>
    public override bool BackwardReadsInput(int input) => false;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var g = ctx.OutputGrads[0];
        int a = Shapes.NormalizeAxis(Axis, g.Rank);
        int outer = Shapes.Product(g.Shape, 0, a);
        int gRow = Shapes.Product(g.Shape, a, g.Rank);
        int offset = 0;
        for (int i = 0; i < ctx.Inputs.Length; i++)
        {
            var x = ctx.Inputs[i];
            int row = Shapes.Product(x.Shape, a, x.Rank);
            var gx = ctx.InputGrads[i];
            if (gx != null && ctx.IsFresh(i))
                for (int o = 0; o < outer; o++)
                    g.Data.AsSpan(o * gRow + offset, row).CopyTo(gx.Data.AsSpan(o * row, row));
            else if (gx != null)
                for (int o = 0; o < outer; o++)
                    System.Numerics.Tensors.TensorPrimitives.Add(gx.Data.AsSpan(o * row, row), g.Data.AsSpan(o * gRow + offset, row), gx.Data.AsSpan(o * row, row));
            offset += row;
        }
    }

    public override string Describe() => $"Concat(axis={Axis})";
}
