using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// InstanceNormalization: each (sample, channel) plane of an N×C×… input normalised by its own statistics, then
/// scale[c] and bias[c]. Gradient as <see cref="NormalizationOp"/> (rows are the planes).
/// </summary>
public sealed class InstanceNormalizationOp(float epsilon) : NormalizationOp(epsilon)
{
    public override string Type => "InstanceNormalization";

    protected override (int Rows, int Length, int Period, int[] Affine) Layout(int[] x, int[] scale)
    {
        if (x.Length < 2) throw new ShapeException("InstanceNormalization needs an input of rank ≥ 2.");
        int c = x[1], plane = Shapes.Product(x, 2, x.Length);
        if (Shapes.ElementCount(scale) != c) throw new ShapeException($"InstanceNormalization: scale {Shapes.Format(scale)} for {c} channels.");
        var affine = new int[c * plane];
        for (int ch = 0; ch < c; ch++) affine.AsSpan(ch * plane, plane).Fill(ch);
        return (x[0] * c, plane, c, affine);
    }

    public override string Describe() => $"InstanceNormalization(epsilon={Epsilon})";
}
