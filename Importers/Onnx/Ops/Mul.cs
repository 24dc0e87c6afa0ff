using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Mul (numpy broadcasting) → <see cref="MulOp"/>; folded at import when both inputs are constants.</summary>
public sealed class Mul : IOnnxOp
{
    public string OpType => "Mul";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ctx.FoldBinary("Mul", ctx.Const(0), ctx.Const(1))); return; }
        ctx.Emit(new MulOp(), [0, 1]);
    }
}
