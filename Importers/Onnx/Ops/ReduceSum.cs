using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceSum → <see cref="ReduceOp"/> (<see cref="ReduceKind.Sum"/>); axes as input from opset 13.</summary>
public sealed class ReduceSum : IOnnxOp
{
    public string OpType => "ReduceSum";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.Sum, 13);
}
