using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Tile (ONNX Tile): y[d] = x[d]·repeats[d], x repeated whole along every axis. A repeat count is fixed, or copied
/// from an axis of the optional second input (the shape source, read for its shape only), so a token tiled to the
/// batch follows it. Built on <see cref="ExpandOp"/>'s kernels: x viewed as [1,x₀,1,x₁,…] is expanded to
/// [r₀,x₀,r₁,x₁,…], which is y's memory order. Gradient: dx = g summed over the repeats; the shape source gets none.
/// </summary>
public sealed class TileOp(DimRule[] repeats) : Op
{
    /// <summary>Repeats per axis: fixed counts, or axes of input 1 (<see cref="DimRule.CopyFrom"/>).</summary>
    public DimRule[] Repeats { get; } = repeats;
    public override string Type => "Tile";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        var r = ExpandOp.Resolve(Repeats, inputs, Type);
        if (r.Length != x.Length) throw new ShapeException($"Tile has {r.Length} repeats for a rank-{x.Length} input.");
        var y = new int[x.Length];
        for (int d = 0; d < y.Length; d++) y[d] = checked(x[d] * r[d]);
        return [y];
    }

    /// <summary>The broadcast from x as [1,x₀,1,x₁,…] to y as [r₀,x₀,r₁,x₁,…].</summary>
    static Broadcast Interleaved(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        var xi = new int[2 * x.Length]; var yi = new int[2 * x.Length];
        for (int d = 0; d < x.Length; d++)
        {
            xi[2 * d] = 1; xi[2 * d + 1] = x[d];
            yi[2 * d] = x[d] == 0 ? 0 : y[d] / x[d]; yi[2 * d + 1] = x[d];
        }
        return new Broadcast(xi, yi);
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        if (y.Length == 0) return;
        ExpandOp.Spread(Interleaved(x.Shape, y.Shape), x.Data, y.Data);
    }

    public override bool HasBackward => true;

    // Shapes only: neither input's values nor the output's are read.
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0];
        if (g.Length == 0) return;
        ExpandOp.Collect(Interleaved(gx.Shape, g.Shape), g.Data, gx.Data);
    }

    public override string Describe() => $"Tile[{ExpandOp.Format(Repeats)}]";
}
