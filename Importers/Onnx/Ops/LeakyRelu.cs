using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX LeakyRelu → <see cref="LeakyReluOp"/>.</summary>
public sealed class LeakyRelu : IOnnxOp
{
    public string OpType => "LeakyRelu";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new LeakyReluOp(ctx.Float("alpha", 0.01f)), [0]);
}
