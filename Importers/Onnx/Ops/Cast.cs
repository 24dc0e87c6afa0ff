using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Cast: folded on constants; on a runtime float tensor only a cast to float (an identity) is supported.</summary>
public sealed class Cast : IOnnxOp
{
    public string OpType => "Cast";

    public void Import(OnnxNodeContext ctx)
    {
        var to = (OnnxDataType)ctx.Int("to", 0);
        if (ctx.IsConstant(0)) { ctx.SetConst(0, ConstEval.Cast(ctx.Const(0), to)); return; }
        if (to != OnnxDataType.Float) throw ctx.Error($"cast of a runtime tensor to {to} is not supported (only to float).");
        ctx.Emit(new IdentityOp(), [0]);
    }
}
