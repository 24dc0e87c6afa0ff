using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Transpose (perm; reversed axes by default) → <see cref="TransposeOp"/>.</summary>
public sealed class Transpose : IOnnxOp
{
    public string OpType => "Transpose";

    public void Import(OnnxNodeContext ctx)
    {
        var op = new TransposeOp(ctx.Ints("perm"));
        if (ctx.IsConstant(0)) { ctx.SetConst(0, ConstEval.Transpose(ctx.Const(0), op.PermFor(ctx.Shape(0).Length))); return; }
        ctx.Emit(op, [0]);
    }
}
