using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Greater (numpy broadcasting from opset 7) → <see cref="CompareOp"/>; the bool output is a 0/1 float mask.
/// Folded at import when both inputs are constants (shape arithmetic keeps its integer types).</summary>
public sealed class Greater : IOnnxOp
{
    public string OpType => "Greater";
    public int MinOpset => 7;

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ConstEval.Binary("Greater", ctx.Const(0), ctx.Const(1))); return; }
        ctx.EmitNamed(new CompareOp(BinaryKind.Greater), [ctx.FloatInput(0), ctx.FloatInput(1)], [ctx.Proto.Output[0]], ctx.Name);
    }
}
