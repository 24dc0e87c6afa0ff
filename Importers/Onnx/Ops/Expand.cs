using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Expand (opset 8; numpy broadcasting in both directions against a constant shape) → <see cref="ExpandOp"/>.
/// Shape elements read from a run-time batch (<c>Shape → Gather → Unsqueeze → Concat</c>, a ViT's cls token expanded
/// to the batch) follow the batch of that value at run time; a constant input with a constant shape is folded.
/// </summary>
public sealed class Expand : IOnnxOp
{
    public string OpType => "Expand";
    public int MinOpset => 8;

    public void Import(OnnxNodeContext ctx)
    {
        var rules = Shaping.BatchRules(ctx, ctx.Const(1), "shape", out var source);
        Shaping.EmitWithSource(ctx, new ExpandOp(rules), source, "Expand");
    }
}
