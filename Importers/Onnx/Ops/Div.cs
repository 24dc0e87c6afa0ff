using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Div (numpy broadcasting) → <see cref="DivOp"/>; folded at import when both inputs are constants.</summary>
public sealed class Div : IOnnxOp
{
    public string OpType => "Div";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ctx.FoldBinary("Div", ctx.Const(0), ctx.Const(1))); return; }
        ctx.Emit(new DivOp(), [0, 1]);
    }
}
