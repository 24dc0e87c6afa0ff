using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Flatten: [prod(dims before axis), prod(dims from axis)], as a reshape whose first dimension follows the batch.</summary>
public sealed class Flatten : IOnnxOp
{
    public string OpType => "Flatten";

    public void Import(OnnxNodeContext ctx)
    {
        var x = ctx.Shape(0);
        int axis = (int)ctx.Int("axis", 1);
        if (axis < 0) axis += x.Length;
        if (axis < 0 || axis > x.Length) throw ctx.Error($"axis {ctx.Int("axis", 1)} is out of range for rank {x.Length}.");
        DimRule[] rules = axis == 0 ? [DimRule.Of(1), DimRule.Infer]
            : axis == x.Length ? [DimRule.Infer, DimRule.Of(1)]
            : [DimRule.Infer, DimRule.Of(Shapes.Product(x, axis, x.Length))];
        if (axis == 1 && ctx.BatchLeading(0)) rules[0] = DimRule.Copy(0);
        Shaping.Emit(ctx, rules, "Flatten", leadingMayBeBatch: axis != 0);
    }
}
