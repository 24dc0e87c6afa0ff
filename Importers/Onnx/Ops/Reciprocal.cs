using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Reciprocal → <see cref="ReciprocalOp"/>.</summary>
public sealed class Reciprocal : IOnnxOp
{
    public string OpType => "Reciprocal";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new ReciprocalOp(), [0]);
}
