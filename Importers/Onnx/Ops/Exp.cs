using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Exp → <see cref="ExpOp"/>.</summary>
public sealed class Exp : IOnnxOp
{
    public string OpType => "Exp";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new ExpOp(), [0]);
}
