using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Squeeze (axes attribute before opset 13, input after; all size-1 axes when none are given, never the batch).</summary>
public sealed class Squeeze : IOnnxOp
{
    public string OpType => "Squeeze";

    public void Import(OnnxNodeContext ctx)
    {
        var x = ctx.Shape(0);
        var axes = Shaping.Axes(ctx, 13)?.Select(a => Shapes.NormalizeAxis(a, x.Length)).ToHashSet();
        axes ??= Enumerable.Range(0, x.Length).Where(i => x[i] == 1 && !(i == 0 && ctx.BatchLeading(0))).ToHashSet();
        foreach (var a in axes)
            if (x[a] != 1) throw ctx.Error($"axis {a} has size {x[a]}, not 1.");
        var rules = Enumerable.Range(0, x.Length).Where(i => !axes.Contains(i)).Select(DimRule.Copy).ToArray();
        Shaping.Emit(ctx, rules, "Squeeze");
    }
}
