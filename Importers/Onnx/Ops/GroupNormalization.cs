using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX GroupNormalization (num_groups; epsilon, default 1e-5; stash_type 1) → <see cref="GroupNormalizationOp"/>.
/// Opset 18 gives scale and bias per group, opset 21 per channel; either way they are weights, and the exported file
/// keeps the shapes of its opset.
/// </summary>
public sealed class GroupNormalization : IOnnxOp
{
    public string OpType => "GroupNormalization";
    public int MinOpset => 18;

    public void Import(OnnxNodeContext ctx)
    {
        if (!ctx.HasAttr("num_groups")) throw ctx.Error("the num_groups attribute is required.");
        var stash = ctx.Int("stash_type", 1);
        if (stash != 1) throw ctx.Error($"stash_type={stash} is not supported (1, float32 statistics, is).");
        ctx.Emit(new GroupNormalizationOp((int)ctx.Int("num_groups", 0), ctx.Float("epsilon", 1e-5f), perGroupAffine: ctx.Opset < 21), [0, 1, 2]);
    }
}
