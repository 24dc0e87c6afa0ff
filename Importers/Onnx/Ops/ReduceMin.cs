using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceMin → <see cref="ReduceOp"/> (<see cref="ReduceKind.Min"/>); axes as input from opset 18.</summary>
public sealed class ReduceMin : IOnnxOp
{
    public string OpType => "ReduceMin";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.Min, 18);
}
