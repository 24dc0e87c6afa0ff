using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX LayerNormalization (opset 17: axis, default −1; epsilon, default 1e-5; stash_type 1 — statistics are
/// accumulated in double, at least float32's precision) → <see cref="LayerNormalizationOp"/>. Scale and the optional
/// bias are weights; the optional Mean and InvStdDev outputs are produced when the node names them.
/// </summary>
public sealed class LayerNormalization : IOnnxOp
{
    public string OpType => "LayerNormalization";
    public int MinOpset => 17;

    public void Import(OnnxNodeContext ctx)
    {
        var stash = ctx.Int("stash_type", 1);
        if (stash != 1) throw ctx.Error($"stash_type={stash} is not supported (1, float32 statistics, is).");
        int rank = ctx.Shape(0).Length;
        int axis = (int)ctx.Int("axis", -1);
        if (axis < -rank || axis >= rank) throw ctx.Error($"axis {axis} out of range for rank {rank}.");
        bool stats = Enumerable.Range(1, ctx.OutputCount - 1).Any(o => ctx.Proto.Output[o].Length > 0);
        var inputs = ctx.HasInput(2) ? new[] { 0, 1, 2 } : [0, 1];
        var op = new LayerNormalizationOp(axis, ctx.Float("epsilon", 1e-5f), stats);
        if (!stats) { ctx.Emit(op, inputs, 1); return; }
        // Unnamed optional outputs still get a value (nothing reads it).
        var outputs = Enumerable.Range(0, 3).Select(o => o < ctx.OutputCount && ctx.Proto.Output[o].Length > 0 ? ctx.Proto.Output[o] : $"{ctx.Name}/unused_{o}").ToArray();
        ctx.EmitNamed(op, inputs.Select(ctx.InputName).ToArray(), outputs, ctx.Name);
    }
}
