namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX LogSoftmax, with the same axis semantics as Softmax (2-D coercion before opset 13).</summary>
public sealed class LogSoftmax : IOnnxOp
{
    public string OpType => "LogSoftmax";
    public void Import(OnnxNodeContext ctx) => Softmax.Import(ctx, log: true);
}
