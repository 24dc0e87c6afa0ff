using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>Shared by the ops that only change a shape (Reshape, Flatten, Squeeze, Unsqueeze).</summary>
static class Shaping
{
    /// <param name="leadingMayBeBatch">
    /// Whether a leading fixed dimension equal to the import batch is taken for the batch (a Reshape to [1, -1] written
    /// at batch 1); false where it cannot be one (Flatten with axis 0, whose leading 1 is the product of no dimensions).
    /// </param>
    public static void Emit(OnnxNodeContext ctx, DimRule[] rules, string sourceType, bool leadingMayBeBatch = true)
    {
        var x = ctx.Shape(0);
        // A leading fixed dimension equal to the import batch follows the batch at run time.
        if (leadingMayBeBatch && ctx.BatchLeading(0) && rules.Length > 0 && rules[0].CopyFrom < 0 && rules[0].Fixed == ctx.ImportBatch && x.Length > 0 && x[0] == ctx.ImportBatch)
            rules[0] = DimRule.Copy(0);
        var op = new ReshapeOp(rules, sourceType);
        if (ctx.IsConstant(0))
        {
            var shape = op.InferShapes([x])[0];
            ctx.SetConst(0, ConstEval.Reshape(ctx.Const(0), shape));
            return;
        }
        ctx.Emit(op, [0]);
    }

    /// <summary>Axes of Squeeze/Unsqueeze/ReduceMean: an attribute before <paramref name="inputSince"/>, input 1 from it.</summary>
    public static int[]? Axes(OnnxNodeContext ctx, int inputSince)
    {
        if (ctx.Opset < inputSince) return ctx.Ints("axes");
        return ctx.HasInput(1) ? ctx.Const(1).ToInts() : null;
    }

    /// <summary>
    /// The target of an Expand or Tile as rules: elements that are the run-time batch (<see cref="ConstTensor.BatchFactor"/>
    /// 1) copy axis 0 of the shape source, which <paramref name="source"/> names (null when none is); the others, a
    /// multiple of the batch among them, are fixed at their import values, and must be whole numbers ≥ 0.
    /// </summary>
    public static DimRule[] BatchRules(OnnxNodeContext ctx, ConstTensor target, string what, out string? source)
    {
        if (target.Dims.Length != 1) throw ctx.Error($"{what} must be 1-D; it is {Toolkit.Tensors.Shapes.Format(target.Dims)}.");
        var values = target.ToLongs();
        var rules = new DimRule[values.Length];
        source = null;
        for (int i = 0; i < values.Length; i++)
        {
            if (target.IsBatch(i)) { rules[i] = DimRule.Copy(0); source = target.BatchSource; continue; }
            if (values[i] < 0 || values[i] > int.MaxValue) throw ctx.Error($"{what} value {values[i]} is invalid.");
            rules[i] = DimRule.Of((int)values[i]);
        }
        return rules;
    }

    /// <summary>
    /// Emits an op that rearranges input 0 by rules of <see cref="BatchRules"/>: folded for a constant when no rule
    /// reads the batch, else run with the shape source as a second input.
    /// </summary>
    public static void EmitWithSource(OnnxNodeContext ctx, Op op, string? source, string what)
    {
        if (source == null && ctx.IsConstant(0))
        {
            var c = ctx.Const(0);
            var shape = op.InferShapes([c.Dims])[0];
            ctx.CheckConstantSize(Toolkit.Tensors.Shapes.ElementCount(shape), $"the folded {what} {Toolkit.Tensors.Shapes.Format(shape)}");
            ctx.SetConst(0, ConstEval.Move(c, op));
            return;
        }
        var inputs = source == null ? [ctx.FloatInput(0)] : new[] { ctx.FloatInput(0), source };
        ctx.EmitNamed(op, inputs, [ctx.Proto.Output[0]], ctx.Name);
    }
}
