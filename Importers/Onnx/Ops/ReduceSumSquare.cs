using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceSumSquare → <see cref="ReduceOp"/> (<see cref="ReduceKind.SumSquare"/>); axes as input from opset 18.</summary>
public sealed class ReduceSumSquare : IOnnxOp
{
    public string OpType => "ReduceSumSquare";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.SumSquare, 18);
}
