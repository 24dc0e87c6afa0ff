using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Relu → <see cref="ReluOp"/>.</summary>
public sealed class Relu : IOnnxOp
{
    public string OpType => "Relu";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new ReluOp(), [0]);
}
