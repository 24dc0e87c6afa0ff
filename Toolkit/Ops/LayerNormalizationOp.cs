using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// LayerNormalization (ONNX opset 17): normalises over the dimensions from <see cref="Axis"/> on, y = x̂·scale + bias
/// with scale and bias broadcast (right-aligned) to those dimensions; optional Mean and InvStdDev outputs shaped as x
/// with 1 from the axis on. Gradient as <see cref="NormalizationOp"/> (rows are the leading dimensions).
/// </summary>
public sealed class LayerNormalizationOp(int axis, float epsilon, bool statistics = false) : NormalizationOp(epsilon)
{
    /// <summary>The first normalised dimension (negative counts from the end).</summary>
    public int Axis { get; } = axis;
    /// <summary>Whether the Mean and InvStdDev outputs are produced.</summary>
    public bool Statistics { get; } = statistics;
    public override string Type => "LayerNormalization";

    protected override (int Rows, int Length, int Period, int[] Affine) Layout(int[] x, int[] scale)
    {
        int a = Shapes.NormalizeAxis(Axis, x.Length);
        int rows = Shapes.Product(x, 0, a), len = Shapes.Product(x, a, x.Length);
        var norm = x[a..];
        if (scale.Length > norm.Length) throw new ShapeException($"LayerNormalization: scale {Shapes.Format(scale)} has more dimensions than the normalised {Shapes.Format(norm)}.");
        // Right-aligned broadcast of scale onto the normalised dimensions: element j's scale index.
        var affine = new int[len];
        var strides = new int[norm.Length];
        int acc = 1;
        for (int i = scale.Length - 1; i >= 0; i--)
        {
            int d = norm.Length - scale.Length + i;
            if (scale[i] != 1 && scale[i] != norm[d]) throw new ShapeException($"LayerNormalization: scale {Shapes.Format(scale)} does not broadcast to {Shapes.Format(norm)}.");
            strides[d] = scale[i] == 1 ? 0 : acc;
            acc *= scale[i];
        }
        for (int j = 0; j < len; j++)
        {
            int rem = j, s = 0;
            for (int d = norm.Length - 1; d >= 0; d--) { s += rem % norm[d] * strides[d]; rem /= norm[d]; }
            affine[j] = s;
        }
        return (rows, len, 1, affine);
    }

    protected override int[]? StatisticsShape(int[] x)
    {
        if (!Statistics) return null;
        int a = Shapes.NormalizeAxis(Axis, x.Length);
        return x.Select((d, i) => i < a ? d : 1).ToArray();
    }

    public override string Describe() => $"LayerNormalization(axis={Axis}, epsilon={Epsilon})";
}
