using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX BatchNormalization (inference form: X, scale, B, mean, var) → <see cref="BatchNormalizationOp"/>.</summary>
public sealed class BatchNormalization : IOnnxOp
{
    public string OpType => "BatchNormalization";

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.Int("training_mode", 0) != 0)
            throw ctx.Error("training_mode=1 graphs are not supported for import (export the model in inference mode).");
        if (ctx.Opset < 9 && ctx.Int("spatial", 1) != 1)
            throw ctx.Error("spatial=0 is not supported.");
        var op = new BatchNormalizationOp(ctx.Float("epsilon", 1e-5f), ctx.Float("momentum", 0.9f));
        // Only Y is used at inference; the optional running-statistics outputs are not produced.
        ctx.Emit(op, [0, 1, 2, 3, 4], outputCount: 1);
    }
}
