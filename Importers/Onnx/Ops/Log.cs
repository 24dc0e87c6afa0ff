using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Log → <see cref="LogOp"/>.</summary>
public sealed class Log : IOnnxOp
{
    public string OpType => "Log";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new LogOp(), [0]);
}
