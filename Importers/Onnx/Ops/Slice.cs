using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Slice: starts/ends/axes as attributes before opset 10, starts/ends/axes/steps as constant inputs from it.
/// Folded on a constant (shape arithmetic, any type, the batch mark carried); on a run-time tensor →
/// <see cref="SliceOp"/>, which clamps the bounds against each run's shape.
/// </summary>
public sealed class Slice : IOnnxOp
{
    public string OpType => "Slice";

    public void Import(OnnxNodeContext ctx)
    {
        long[] starts, ends, axes, steps;
        if (ctx.Opset < 10)
        {
            starts = ctx.Longs("starts") ?? throw ctx.Error("starts are required.");
            ends = ctx.Longs("ends") ?? throw ctx.Error("ends are required.");
            axes = ctx.Longs("axes") ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            starts = ctx.Const(1).ToLongs();
            ends = ctx.Const(2).ToLongs();
            axes = ctx.HasInput(3) ? ctx.Const(3).ToLongs() : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps = ctx.HasInput(4) ? ctx.Const(4).ToLongs() : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        if (starts.Length != ends.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw ctx.Error($"{starts.Length} starts, {ends.Length} ends, {axes.Length} axes and {steps.Length} steps do not agree.");
        if (steps.Any(s => s == 0)) throw ctx.Error("a step is 0.");
        if (ctx.IsConstant(0)) { ctx.SetConst(0, ConstEval.Slice(ctx.Const(0), starts, ends, axes, steps)); return; }
        ctx.Emit(new SliceOp(starts, ends, axes, steps), [0]);
    }
}
