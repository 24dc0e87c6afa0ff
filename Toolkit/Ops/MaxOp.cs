using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>Elementwise Max with numpy broadcasting. Gradient: d/da = g where a ≥ b, d/db = g where b > a.</summary>
public sealed class MaxOp() : BinaryOp(BinaryKind.Max)
{
    public override string Type => "Max";
}
