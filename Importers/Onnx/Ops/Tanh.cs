using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Tanh → <see cref="TanhOp"/>.</summary>
public sealed class Tanh : IOnnxOp
{
    public string OpType => "Tanh";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new TanhOp(), [0]);
}
