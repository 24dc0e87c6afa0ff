using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX MaxPool (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode) → <see cref="PoolOp"/>.</summary>
public sealed class MaxPool : IOnnxOp
{
    public string OpType => "MaxPool";

    public void Import(OnnxNodeContext ctx)
    {
        var kernel = ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.");
        if (ctx.Int("storage_order", 0) != 0) throw ctx.Error("storage_order=1 is not supported.");
        if (ctx.OutputCount > 1 && ctx.Proto.Output[1].Length > 0) throw ctx.Error("the Indices output is not supported.");
        var op = new PoolOp(true, Window.Read(ctx, kernel), ctx.Int("ceil_mode", 0) != 0, ctx.Int("count_include_pad", 0) != 0);
        ctx.Emit(op, [0], outputCount: 1);
    }
}
