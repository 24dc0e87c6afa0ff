using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Softplus → <see cref="SoftplusOp"/>.</summary>
public sealed class Softplus : IOnnxOp
{
    public string OpType => "Softplus";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new SoftplusOp(), [0]);
}
