using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ReduceMean (axes: attribute before opset 18, input after; keepdims; noop_with_empty_axes).</summary>
public sealed class ReduceMean : IOnnxOp
{
    public string OpType => "ReduceMean";

    public void Import(OnnxNodeContext ctx)
    {
        var axes = Shaping.Axes(ctx, 18);
        bool keep = ctx.Int("keepdims", 1) != 0;
        if ((axes == null || axes.Length == 0) && ctx.Int("noop_with_empty_axes", 0) != 0)
        {
            ctx.Emit(new IdentityOp(), [0]);
            return;
        }
        ctx.Emit(new ReduceMeanOp(axes, keep), [0]);
    }
}
