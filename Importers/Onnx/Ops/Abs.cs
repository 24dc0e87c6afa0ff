using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Abs → <see cref="AbsOp"/>.</summary>
public sealed class Abs : IOnnxOp
{
    public string OpType => "Abs";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new AbsOp(), [0]);
}
