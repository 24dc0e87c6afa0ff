using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>How one output dimension of a reshape is found.</summary>
/// <param name="Fixed">The dimension, or -1 to infer it from the element count.</param>
/// <param name="CopyFrom">When ≥ 0, copy this input dimension (how a batch dimension follows the input).</param>
public readonly record struct DimRule(int Fixed, int CopyFrom = -1)
{
    public static DimRule Copy(int inputAxis) => new(0, inputAxis);
    public static DimRule Infer => new(-1);
    public static DimRule Of(int n) => new(n);
    public override string ToString() => CopyFrom >= 0 ? $"in[{CopyFrom}]" : Fixed < 0 ? "-1" : Fixed.ToString();
}

/// <summary>
/// A view with a new shape (Reshape, Flatten, Squeeze, Unsqueeze all become this). The target is a list of
/// rules so that a dimension copied from the input (the batch) follows it at any batch size.
/// Gradient: dx = g viewed with x's shape.
/// </summary>
public sealed class ReshapeOp(DimRule[] target, string sourceType = "Reshape") : Op
{
    public DimRule[] Target { get; } = target;
    /// <summary>The ONNX op this came from (Reshape, Flatten, Squeeze, Unsqueeze).</summary>
    public string SourceType { get; } = sourceType;
    public override string Type => "Reshape";
    public override bool IsView => true;

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        long count = Shapes.ElementCount(x);
        var r = new int[Target.Length];
        int infer = -1; long known = 1;
        for (int i = 0; i < r.Length; i++)
        {
            var t = Target[i];
            if (t.CopyFrom >= 0)
            {
                if (t.CopyFrom >= x.Length) throw new ShapeException($"Reshape copies input axis {t.CopyFrom} of a rank-{x.Length} input.");
                r[i] = x[t.CopyFrom];
            }
            else if (t.Fixed < 0)
            {
                if (infer >= 0) throw new ShapeException("Reshape has more than one -1.");
                infer = i; continue;
            }
            else r[i] = t.Fixed;
            known *= r[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || count % known != 0)
                throw new ShapeException($"Cannot reshape {Shapes.Format(x)} to [{string.Join(",", Target)}].");
            r[infer] = (int)(count / known);
        }
        else if (known != count)
            throw new ShapeException($"Cannot reshape {Shapes.Format(x)} ({count} elements) to {Shapes.Format(r)}.");
        return [r];
    }

    public override void Forward(OpContext ctx) { /* a view: the plan binds the output to the input's storage */ }

    public override bool HasBackward => true;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        System.Numerics.Tensors.TensorPrimitives.Add(gx.Span, ctx.OutputGrads[0].Span, gx.Span);
    }

    public override string Describe() => $"Reshape[{string.Join(",", Target)}] ({SourceType})";
}
