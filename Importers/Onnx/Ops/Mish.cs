using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Mish → <see cref="MishOp"/>.</summary>
public sealed class Mish : IOnnxOp
{
    public string OpType => "Mish";
    public int MinOpset => 18;
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new MishOp(), [0]);
}
