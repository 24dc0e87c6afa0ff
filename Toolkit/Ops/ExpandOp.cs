using System.Numerics.Tensors;
using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Expand (ONNX Expand): x broadcast, numpy-style in both directions, against a target shape. A target dimension is
/// fixed, or copied from an axis of the optional second input (the shape source, read for its shape only): that is
/// how a cls token [1,1,D] expanded to <c>[batch,1,D]</c> follows the batch at run time.
/// Gradient: dx = g summed over the axes x was broadcast along; the shape source gets none.
/// </summary>
public sealed class ExpandOp(DimRule[] shape) : Op
{
    /// <summary>The target shape: fixed sizes, or axes of input 1 (<see cref="DimRule.CopyFrom"/>).</summary>
    public DimRule[] Shape { get; } = shape;
    public override string Type => "Expand";

    /// <summary>The target shape for these input shapes.</summary>
    public static int[] Resolve(DimRule[] rules, IReadOnlyList<int[]> inputs, string op)
    {
        var r = new int[rules.Length];
        for (int i = 0; i < rules.Length; i++)
        {
            var t = rules[i];
            if (t.CopyFrom >= 0)
            {
                if (inputs.Count < 2 || t.CopyFrom >= inputs[1].Length)
                    throw new ShapeException($"{op} copies axis {t.CopyFrom} of a shape source it does not have.");
                r[i] = inputs[1][t.CopyFrom];
            }
            else if (t.Fixed < 0) throw new ShapeException($"{op} target dimension {i} is {t.Fixed}.");
            else r[i] = t.Fixed;
        }
        return r;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Shapes.Broadcast(inputs[0], Resolve(Shape, inputs, Type))];

    /// <summary>
    /// y = x spread over a broadcast whose operand A is x and whose B (and output) is y: each innermost run either
    /// copies a row of x (A stride 1) or repeats one element (A stride 0).
    /// </summary>
    public static void Spread(Broadcast bc, float[] x, float[] y) =>
        bc.ForEachRun((o, ia, _, n, sa, _) =>
        {
            if (sa == 1) x.AsSpan(ia, n).CopyTo(y.AsSpan(o, n));
            else y.AsSpan(o, n).Fill(x[ia]);
        });

    /// <summary>The adjoint of <see cref="Spread"/>: dx += g summed over every place its element was spread to.</summary>
    public static void Collect(Broadcast bc, float[] g, float[] gx) =>
        bc.ForEachRun((o, ia, _, n, sa, _) =>
        {
            if (sa == 1) TensorPrimitives.Add(gx.AsSpan(ia, n), g.AsSpan(o, n), gx.AsSpan(ia, n));
            else gx[ia] += TensorPrimitives.Sum(g.AsSpan(o, n));
        });

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        Spread(new Broadcast(x.Shape, y.Shape), x.Data, y.Data);
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
        Collect(new Broadcast(gx.Shape, g.Shape), g.Data, gx.Data);
    }

    public override string Describe() => $"Expand[{ExpandOp.Format(Shape)}]";

    /// <summary>Rules as inspect shows them: a fixed size, or <c>src[a]</c> for axis a of the shape source.</summary>
    public static string Format(DimRule[] rules) => string.Join(",", rules.Select(r => r.CopyFrom >= 0 ? $"src[{r.CopyFrom}]" : r.Fixed.ToString()));
}
