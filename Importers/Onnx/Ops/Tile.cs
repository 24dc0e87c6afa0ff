using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Tile (repeats as a constant input, opset 6 on) → <see cref="TileOp"/>. Repeat counts read from a run-time
/// batch follow that batch at run time; a constant input with constant repeats is folded.
/// </summary>
public sealed class Tile : IOnnxOp
{
    public string OpType => "Tile";
    public int MinOpset => 6;

    public void Import(OnnxNodeContext ctx)
    {
        var rules = Shaping.BatchRules(ctx, ctx.Const(1), "repeats", out var source);
        if (rules.Length != ctx.Shape(0).Length)
            throw ctx.Error($"{rules.Length} repeats for a rank-{ctx.Shape(0).Length} input.");
        Shaping.EmitWithSource(ctx, new TileOp(rules), source, "Tile");
    }
}
