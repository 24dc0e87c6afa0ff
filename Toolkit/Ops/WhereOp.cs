using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Where(condition, x, y) with numpy broadcasting of all three: out = condition ≠ 0 ? x : y (the condition is a float
/// mask). Gradient: dx = g where the condition holds, dy = g where it does not, each summed over the dimensions its
/// operand was broadcast along; none for the condition.
/// </summary>
public sealed class WhereOp : Op
{
    public override string Type => "Where";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) =>
        [Shapes.Broadcast(Shapes.Broadcast(inputs[0], inputs[1]), inputs[2])];

    /// <summary>Element strides of <paramref name="shape"/> right-aligned to <paramref name="outShape"/>, 0 where broadcast.</summary>
    static int[] Aligned(int[] shape, int[] outShape)
    {
        int rank = outShape.Length;
        var s = new int[rank];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[rank - shape.Length + i] = shape[i] == 1 ? 0 : acc;
            acc *= shape[i];
        }
        return s;
    }

    /// <summary>Calls visit(out, c, x, y) with the flat index of each output element and of the operand elements it reads.</summary>
    static void ForEach(Tensor c, Tensor x, Tensor y, int[] outShape, Action<int, int, int, int> visit)
    {
        int rank = outShape.Length;
        var sc = Aligned(c.ShapeArray, outShape); var sx = Aligned(x.ShapeArray, outShape); var sy = Aligned(y.ShapeArray, outShape);
        var idx = new int[rank];
        int ic = 0, ix = 0, iy = 0;
        long n = Shapes.ElementCount(outShape);
        for (int o = 0; o < n; o++)
        {
            visit(o, ic, ix, iy);
            // Odometer over the output index, moving each operand by its stride (0 on broadcast dimensions).
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++; ic += sc[d]; ix += sx[d]; iy += sy[d];
                if (idx[d] < outShape[d]) break;
                ic -= sc[d] * outShape[d]; ix -= sx[d] * outShape[d]; iy -= sy[d] * outShape[d]; idx[d] = 0;
            }
        }
    }

    public override void Forward(OpContext ctx)
    {
        var c = ctx.Inputs[0]; var x = ctx.Inputs[1]; var y = ctx.Inputs[2]; var o = ctx.Outputs[0];
        float[] cd = c.Data, xd = x.Data, yd = y.Data, od = o.Data;
        ForEach(c, x, y, o.ShapeArray, (i, ic, ix, iy) => od[i] = cd[ic] != 0 ? xd[ix] : yd[iy]);
    }

    public override bool HasBackward => true;

    /// <summary>Backward reads the condition only, never x, y or the output.</summary>
    public override bool BackwardReadsInput(int input) => input == 0;

    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads.Length > 1 ? ctx.InputGrads[1]?.Data : null;
        var gy = ctx.InputGrads.Length > 2 ? ctx.InputGrads[2]?.Data : null;
        if (gx == null && gy == null) return;
        var c = ctx.Inputs[0]; var g = ctx.OutputGrads[0];
        float[] cd = c.Data, gd = g.Data;
        ForEach(c, ctx.Inputs[1], ctx.Inputs[2], g.ShapeArray, (i, ic, ix, iy) =>
        {
            if (cd[ic] != 0) { if (gx != null) gx[ix] += gd[i]; }
            else if (gy != null) gy[iy] += gd[i];
        });
    }
}
