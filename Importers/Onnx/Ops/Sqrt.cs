using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Sqrt → <see cref="SqrtOp"/>.</summary>
public sealed class Sqrt : IOnnxOp
{
    public string OpType => "Sqrt";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new SqrtOp(), [0]);
}
