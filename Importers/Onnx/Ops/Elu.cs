using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Elu (alpha, default 1) → <see cref="EluOp"/>.</summary>
public sealed class Elu : IOnnxOp
{
    public string OpType => "Elu";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new EluOp(ctx.Float("alpha", 1f)), [0]);
}
