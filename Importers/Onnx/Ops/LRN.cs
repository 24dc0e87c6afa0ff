using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX LRN (size, alpha, beta, bias) → <see cref="LrnOp"/>.</summary>
public sealed class LRN : IOnnxOp
{
    public string OpType => "LRN";

    public void Import(OnnxNodeContext ctx)
    {
        int size = (int)ctx.Int("size", 0);
        if (size < 1) throw ctx.Error("size must be positive.");
        ctx.Emit(new LrnOp(size, ctx.Float("alpha", 1e-4f), ctx.Float("beta", 0.75f), ctx.Float("bias", 1f)), [0]);
    }
}
