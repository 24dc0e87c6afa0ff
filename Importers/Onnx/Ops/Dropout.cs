using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Dropout: identity at inference (ratio from the attribute before opset 12, from input 1 after).</summary>
public sealed class Dropout : IOnnxOp
{
    public string OpType => "Dropout";

    public void Import(OnnxNodeContext ctx)
    {
        float ratio = ctx.Opset < 12 ? ctx.Float("ratio", 0.5f) : ctx.HasInput(1) ? (float)ctx.Const(1).Data.Single() : 0.5f;
        if (ctx.OutputCount > 1 && ctx.Proto.Output[1].Length > 0) throw ctx.Error("the mask output is not supported.");
        if (ctx.IsConstant(0)) { ctx.Alias(0, 0); return; }
        ctx.Emit(new DropoutOp(ratio), [0], outputCount: 1);
    }
}
