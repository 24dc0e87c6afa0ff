using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Sigmoid → <see cref="SigmoidOp"/>.</summary>
public sealed class Sigmoid : IOnnxOp
{
    public string OpType => "Sigmoid";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new SigmoidOp(), [0]);
}
