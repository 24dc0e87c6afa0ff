using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// GlobalAveragePool / GlobalMaxPool: one value per (n, c) over all spatial positions, output N×C×1×…×1.
/// Gradient: average spreads g/HW; max routes g to the arg-max.
/// </summary>
public sealed class GlobalPoolOp(bool max) : Op
{
    public bool IsMax { get; } = max;
    public override string Type => IsMax ? "GlobalMaxPool" : "GlobalAveragePool";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        if (x.Length < 2) throw new ShapeException($"{Type} needs an N×C×… input, got {Shapes.Format(x)}.");
        var r = new int[x.Length];
        Array.Fill(r, 1);
        r[0] = x[0]; r[1] = x[1];
        return [r];
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0];
        int planes = x.Dim(0) * x.Dim(1);
        int size = x.Length / Math.Max(planes, 1);
        if (IsMax) Pool2D.GlobalMax(planes, size, x.Span, ctx.Outputs[0].Span);
        else Pool2D.GlobalAverage(planes, size, x.Span, ctx.Outputs[0].Span);
    }
}
