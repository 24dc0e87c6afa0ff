using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX HardSigmoid → <see cref="HardSigmoidOp"/>.</summary>
public sealed class HardSigmoid : IOnnxOp
{
    public string OpType => "HardSigmoid";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new HardSigmoidOp(ctx.Float("alpha", 0.2f), ctx.Float("beta", 0.5f)), [0]);
}
