using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX HardSwish → <see cref="HardSwishOp"/>.</summary>
public sealed class HardSwish : IOnnxOp
{
    public string OpType => "HardSwish";
    public int MinOpset => 14;
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new HardSwishOp(), [0]);
}
