using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX GlobalMaxPool → <see cref="GlobalPoolOp"/>.</summary>
public sealed class GlobalMaxPool : IOnnxOp
{
    public string OpType => "GlobalMaxPool";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new GlobalPoolOp(true), [0]);
}
