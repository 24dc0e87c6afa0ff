using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Clip: min/max as attributes before opset 11, as optional constant inputs from opset 11.</summary>
public sealed class Clip : IOnnxOp
{
    public string OpType => "Clip";

    public void Import(OnnxNodeContext ctx)
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (ctx.Opset < 11)
        {
            min = ctx.Float("min", float.MinValue);
            max = ctx.Float("max", float.MaxValue);
        }
        else
        {
            if (ctx.HasInput(1)) min = (float)ctx.Const(1).Data.Single();
            if (ctx.HasInput(2)) max = (float)ctx.Const(2).Data.Single();
        }
        ctx.Emit(new ClipOp(min, max), [0]);
    }
}
