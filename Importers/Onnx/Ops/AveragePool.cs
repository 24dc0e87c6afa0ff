using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX AveragePool (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode, count_include_pad) → <see cref="PoolOp"/>.</summary>
public sealed class AveragePool : IOnnxOp
{
    public string OpType => "AveragePool";

    public void Import(OnnxNodeContext ctx)
    {
        var kernel = ctx.Ints("kernel_shape") ?? throw ctx.Error("kernel_shape is required.");
        var op = new PoolOp(false, Window.Read(ctx, kernel), ctx.Int("ceil_mode", 0) != 0, ctx.Int("count_include_pad", 0) != 0);
        ctx.Emit(op, [0], outputCount: 1);
    }
}
