using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Dropout: identity at inference (ratio from the attribute before opset 12, from input 1 after).</summary>
public sealed class Dropout : IOnnxOp
{
    public string OpType => "Dropout";

    public void Import(OnnxNodeContext ctx)
    {
        float ratio = ctx.Opset < 12 ? ctx.Float("ratio", 0.5f) : ctx.HasInput(1) ? (float)ctx.Const(1).Data.Single() : 0.5f;
        // Training mode with ratio 0 drops nothing and is still deterministic; anything else needs random masks.
        if (ctx.Opset >= 12 && ctx.HasInput(2) && ctx.Const(2).Data.Single() != 0 && ratio != 0)
            throw ctx.Error("training_mode=true in the graph is not supported; training mode is chosen by the trainer.");
        if (ctx.OutputCount > 1 && ctx.Proto.Output[1].Length > 0)
        {
            // At inference nothing is dropped: the mask is all true.
            var shape = ctx.Shape(0);
            ctx.CheckConstantSize(Toolkit.Tensors.Shapes.ElementCount(shape), $"the mask {Toolkit.Tensors.Shapes.Format(shape)}");
            var ones = new double[Toolkit.Tensors.Shapes.ElementCount(shape)];
            Array.Fill(ones, 1.0);
            ctx.SetConst(1, new ConstTensor(OnnxDataType.Bool, shape, ones));
        }
        if (ctx.IsConstant(0)) { ctx.Alias(0, 0); return; }
        ctx.Emit(new DropoutOp(ratio), [0], outputCount: 1);
    }
}
