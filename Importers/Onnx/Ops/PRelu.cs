using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX PRelu (slope broadcast to X; opset 7+ uses numpy broadcasting) → <see cref="PReluOp"/>.</summary>
public sealed class PRelu : IOnnxOp
{
    public string OpType => "PRelu";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new PReluOp(), [0, 1]);
}
