using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>Elementwise Div with numpy broadcasting. Gradient: d/da = g / b, d/db = −g·a / b².</summary>
public sealed class DivOp() : BinaryOp(BinaryKind.Div)
{
    public override string Type => "Div";
}
