using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Softmax: before opset 13 the input is flattened to 2-D at axis (default 1); from 13 one axis (default −1).</summary>
public sealed class Softmax : IOnnxOp
{
    public string OpType => "Softmax";
    public void Import(OnnxNodeContext ctx) => Import(ctx, log: false);

    internal static void Import(OnnxNodeContext ctx, bool log)
    {
        bool legacy = ctx.Opset < 13;
        int axis = (int)ctx.Int("axis", legacy ? 1 : -1);
        ctx.Emit(new SoftmaxOp(axis, legacy, log), [0]);
    }
}
