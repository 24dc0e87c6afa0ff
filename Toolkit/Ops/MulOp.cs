using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>Elementwise Mul with numpy broadcasting. Gradient: d/da = g·b, d/db = g·a.</summary>
public sealed class MulOp() : BinaryOp(BinaryKind.Mul)
{
    public override string Type => "Mul";
}
