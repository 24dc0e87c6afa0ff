using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX MatMul (numpy semantics) → <see cref="MatMulOp"/>.</summary>
public sealed class MatMul : IOnnxOp
{
    public string OpType => "MatMul";
    public void Import(OnnxNodeContext ctx) => ctx.Emit(new MatMulOp(), [0, 1]);
}
