using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Elementwise Pow with numpy broadcasting: y = aᵇ. Gradient: d/da = g·b·a^(b−1), d/db = g·aᵇ·ln a (0 where a = 0,
/// as PyTorch's pow). The exponent is usually a constant (the 2 of a variance), so d/db is rarely asked for.
/// </summary>
public sealed class PowOp() : BinaryOp(BinaryKind.Pow)
{
    public override string Type => "Pow";
}
