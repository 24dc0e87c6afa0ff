using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Pow (numpy broadcasting from opset 7; from 12 the exponent may be an integer tensor, read as float)
/// → <see cref="PowOp"/>. The exponent is a constant, never a weight (<see cref="WeightSlots"/>).
/// </summary>
public sealed class Pow : IOnnxOp
{
    public string OpType => "Pow";
    public int MinOpset => 7;

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ConstEval.Binary("Pow", ctx.Const(0), ctx.Const(1))); return; }
        ctx.EmitNamed(new PowOp(), [ctx.FloatInput(0), ctx.FloatInput(1)], [ctx.Proto.Output[0]], ctx.Name);
    }
}
