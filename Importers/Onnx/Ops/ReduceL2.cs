using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceL2 → <see cref="ReduceOp"/> (<see cref="ReduceKind.L2"/>); axes as input from opset 18.</summary>
public sealed class ReduceL2 : IOnnxOp
{
    public string OpType => "ReduceL2";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.L2, 18);
}
