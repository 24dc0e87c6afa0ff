using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Neg → <see cref="NegOp"/>.</summary>
public sealed class Neg : IOnnxOp
{
    public string OpType => "Neg";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new NegOp(), [0]);
}
