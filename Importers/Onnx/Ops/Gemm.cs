using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Gemm (transA, transB, alpha, beta; C optional from opset 11) → <see cref="GemmOp"/>.</summary>
public sealed class Gemm : IOnnxOp
{
    public string OpType => "Gemm";

    public void Import(OnnxNodeContext ctx)
    {
        var op = new GemmOp(ctx.Int("transA", 0) != 0, ctx.Int("transB", 0) != 0, ctx.Float("alpha", 1f), ctx.Float("beta", 1f));
        ctx.Emit(op, ctx.HasInput(2) ? [0, 1, 2] : [0, 1]);
    }
}
