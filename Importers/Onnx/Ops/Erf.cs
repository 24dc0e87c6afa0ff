using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Erf → <see cref="ErfOp"/>.</summary>
public sealed class Erf : IOnnxOp
{
    public string OpType => "Erf";
    public int MinOpset => 9;
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new ErfOp(), [0]);
}
