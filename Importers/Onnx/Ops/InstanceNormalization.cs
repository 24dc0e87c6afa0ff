using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX InstanceNormalization (epsilon, default 1e-5) → <see cref="InstanceNormalizationOp"/>; scale and bias are weights.</summary>
public sealed class InstanceNormalization : IOnnxOp
{
    public string OpType => "InstanceNormalization";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new InstanceNormalizationOp(ctx.Float("epsilon", 1e-5f)), [0, 1, 2]);
}
