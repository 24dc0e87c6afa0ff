using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Add (numpy broadcasting) → <see cref="AddOp"/>; folded at import when both inputs are constants.</summary>
public sealed class Add : IOnnxOp
{
    public string OpType => "Add";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1)) { ctx.SetConst(0, ctx.FoldBinary("Add", ctx.Const(0), ctx.Const(1))); return; }
        ctx.Emit(new AddOp(), [0, 1]);
    }
}
