using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>PRelu: y = x &lt; 0 ? slope·x : x, slope broadcast to x. Gradient: dx = g·(x &lt; 0 ? slope : 1), dslope = g·min(x,0).</summary>
public sealed class PReluOp() : BinaryOp(BinaryKind.PRelu)
{
    public override string Type => "PRelu";
}
