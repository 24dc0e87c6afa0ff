using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Sub (numpy broadcasting) → <see cref="SubOp"/>; folded at import when both inputs are constants.</summary>
public sealed class Sub : IOnnxOp
{
    public string OpType => "Sub";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ctx.FoldBinary("Sub", ctx.Const(0), ctx.Const(1))); return; }
        ctx.Emit(new SubOp(), [0, 1]);
    }
}
