namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Slice on constants (starts/ends/axes as attributes before opset 10, inputs after), folded at import.</summary>
public sealed class Slice : IOnnxOp
{
    public string OpType => "Slice";
    public bool Runtime => false;

    public void Import(OnnxNodeContext ctx)
    {
        var data = ctx.Const(0);
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
        ctx.SetConst(0, ConstEval.Slice(data, starts, ends, axes, steps));
    }
}
