using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceMax → <see cref="ReduceOp"/> (<see cref="ReduceKind.Max"/>); axes as input from opset 18.</summary>
public sealed class ReduceMax : IOnnxOp
{
    public string OpType => "ReduceMax";
    public void Import(OnnxNodeContext ctx) => Reduce.Import(ctx, ReduceKind.Max, 18);
}
