using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Identity → <see cref="IdentityOp"/> (constants pass straight through).</summary>
public sealed class Identity : IOnnxOp
{
    public string OpType => "Identity";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0)) ctx.Alias(0, 0);
        else ctx.Emit(new IdentityOp(), [0]);
    }
}
