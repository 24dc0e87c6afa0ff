using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>Elementwise Sub with numpy broadcasting. Gradient: d/da = g, d/db = −g.</summary>
public sealed class SubOp() : BinaryOp(BinaryKind.Sub)
{
    public override string Type => "Sub";
}
