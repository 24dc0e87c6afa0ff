using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Unsqueeze (axes attribute before opset 13, input after; axes index the output).</summary>
public sealed class Unsqueeze : IOnnxOp
{
    public string OpType => "Unsqueeze";

    public void Import(OnnxNodeContext ctx)
    {
        var x = ctx.Shape(0);
        var raw = Shaping.Axes(ctx, 13) ?? throw ctx.Error("axes are required.");
        int rank = x.Length + raw.Length;
        var axes = raw.Select(a => Shapes.NormalizeAxis(a, rank)).ToHashSet();
        if (axes.Count != raw.Length) throw ctx.Error("axes repeat.");
        var rules = new DimRule[rank];
        for (int o = 0, i = 0; o < rank; o++) rules[o] = axes.Contains(o) ? DimRule.Of(1) : DimRule.Copy(i++);
        Shaping.Emit(ctx, rules, "Unsqueeze");
    }
}
