using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Conv (X, W, optional B; group, strides, dilations, pads, auto_pad) → <see cref="ConvOp"/>.</summary>
public sealed class Conv : IOnnxOp
{
    public string OpType => "Conv";

    public void Import(OnnxNodeContext ctx)
    {
        var w = ctx.Shape(1);
        var kernel = ctx.Ints("kernel_shape") ?? w[2..];
        if (!kernel.SequenceEqual(w[2..])) throw ctx.Error($"kernel_shape [{string.Join(",", kernel)}] does not match the weight's [{string.Join(",", w[2..])}].");
        var op = new ConvOp(Window.Read(ctx, kernel), (int)ctx.Int("group", 1));
        ctx.Emit(op, ctx.HasInput(2) ? [0, 1, 2] : [0, 1]);
    }
}
