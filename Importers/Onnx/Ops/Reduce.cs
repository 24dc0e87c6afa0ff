using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// Shared by the Reduce* ops: axes as an attribute before <c>inputSince</c> (opset 18; ReduceSum 13) and as the
/// optional input 1 from it; keepdims (default 1); noop_with_empty_axes (default 0: no axes reduce everything).
/// </summary>
static class Reduce
{
    public static void Import(OnnxNodeContext ctx, ReduceKind kind, int inputSince)
    {
        var axes = Shaping.Axes(ctx, inputSince);
        bool keep = ctx.Int("keepdims", 1) != 0;
        if ((axes == null || axes.Length == 0) && ctx.Int("noop_with_empty_axes", 0) != 0)
        {
            ctx.Emit(new IdentityOp(), [0]);
            return;
        }
        if (axes != null && axes.Distinct().Count() != axes.Length) throw ctx.Error($"axes [{string.Join(",", axes)}] repeat an axis.");
        int rank = ctx.Shape(0).Length;
        if (axes != null && axes.Any(a => a < -rank || a >= rank)) throw ctx.Error($"axes [{string.Join(",", axes)}] out of range for rank {rank}.");
        ctx.Emit(new ReduceOp(kind, axes, keep), [0]);
    }
}
