using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX GlobalAveragePool → <see cref="GlobalPoolOp"/>.</summary>
public sealed class GlobalAveragePool : IOnnxOp
{
    public string OpType => "GlobalAveragePool";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new GlobalPoolOp(false), [0]);
}
