using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Selu (alpha, gamma) → <see cref="SeluOp"/>.</summary>
public sealed class Selu : IOnnxOp
{
    public string OpType => "Selu";

    public void Import(OnnxNodeContext ctx) => ctx.Emit(new SeluOp(ctx.Float("alpha", SeluOp.DefaultAlpha), ctx.Float("gamma", SeluOp.DefaultGamma)), [0]);
}
