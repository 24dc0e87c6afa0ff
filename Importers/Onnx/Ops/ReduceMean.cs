using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceMean → <see cref="ReduceOp"/> (<see cref="ReduceKind.Mean"/>); axes as input from opset 18.</summary>
public sealed class ReduceMean : IOnnxOp
{
    public string OpType => "ReduceMean";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.Mean, 18);
}
