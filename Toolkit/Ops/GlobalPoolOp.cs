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

    public override bool HasBackward => true;

    /// <summary>Max pooling finds each plane's maximum again in the input; average pooling reads no values.</summary>
    public override bool BackwardReadsInput(int input) => IsMax;

    /// <summary>Backward never reads the pooled values.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var x = ctx.Inputs[0].Data; var g = ctx.OutputGrads[0].Data; var d = gx.Data;
        int planes = gx.Dim(0) * gx.Dim(1), size = gx.Length / Math.Max(planes, 1);
        for (int p = 0; p < planes; p++)
        {
            if (IsMax)
            {
                // Route to the first maximum, as forward's reduction order picks it.
                int at = 0;
                for (int i = 1; i < size; i++) if (x[p * size + i] > x[p * size + at]) at = i;
                d[p * size + at] += g[p];
            }
            else System.Numerics.Tensors.TensorPrimitives.Add(d.AsSpan(p * size, size), g[p] / size, d.AsSpan(p * size, size));
        }
    }
}
