using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Concat (axis) → <see cref="ConcatOp"/>; folded for constants of any type (shape arithmetic).</summary>
public sealed class Concat : IOnnxOp
{
    public string OpType => "Concat";

    public void Import(OnnxNodeContext ctx)
    {
        int axis = (int)ctx.Int("axis", ctx.Opset < 4 ? 1 : int.MinValue);
        if (axis == int.MinValue) throw ctx.Error("axis is required.");
        var inputs = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).ToArray();
        if (inputs.All(ctx.IsConstant)) { ctx.SetConst(0, ConstEval.Concat(inputs.Select(ctx.Const).ToArray(), axis)); return; }
        ctx.Emit(new ConcatOp(axis), inputs);
    }
}
