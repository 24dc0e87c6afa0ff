using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// GroupNormalization: the C channels of an N×C×… input in <see cref="Groups"/> groups of consecutive channels, each
/// (sample, group) normalised by its own statistics, then scale and bias per channel (ONNX opset 21) or per group
/// (opset 18, <see cref="PerGroupAffine"/>). Gradient as <see cref="NormalizationOp"/> (rows are the groups).
/// </summary>
public sealed class GroupNormalizationOp(int groups, float epsilon, bool perGroupAffine) : NormalizationOp(epsilon)
{
    public int Groups { get; } = groups;
    /// <summary>Whether scale and bias hold one value per group (opset 18) instead of one per channel.</summary>
    public bool PerGroupAffine { get; } = perGroupAffine;
    public override string Type => "GroupNormalization";

    protected override (int Rows, int Length, int Period, int[] Affine) Layout(int[] x, int[] scale)
    {
        if (x.Length < 2) throw new ShapeException("GroupNormalization needs an input of rank ≥ 2.");
        int c = x[1], plane = Shapes.Product(x, 2, x.Length);
        if (Groups <= 0 || c % Groups != 0) throw new ShapeException($"GroupNormalization: {c} channels do not split into {Groups} groups.");
        int expected = PerGroupAffine ? Groups : c;
        if (Shapes.ElementCount(scale) != expected) throw new ShapeException($"GroupNormalization: scale {Shapes.Format(scale)} where {expected} values are expected.");
        int perGroup = c / Groups, len = perGroup * plane;
        var affine = new int[Groups * len];
        for (int g = 0; g < Groups; g++)
            for (int k = 0; k < perGroup; k++)
                affine.AsSpan(g * len + k * plane, plane).Fill(PerGroupAffine ? g : g * perGroup + k);
        return (x[0] * Groups, len, Groups, affine);
    }

    public override string Describe() => $"GroupNormalization(num_groups={Groups}, epsilon={Epsilon}{(PerGroupAffine ? ", per-group scale" : "")})";
}
