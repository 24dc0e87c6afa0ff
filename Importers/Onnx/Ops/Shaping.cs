using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>Shared by the ops that only change a shape (Reshape, Flatten, Squeeze, Unsqueeze).</summary>
static class Shaping
{
    public static void Emit(OnnxNodeContext ctx, DimRule[] rules, string sourceType)
    {
        var x = ctx.Shape(0);
        // A leading fixed dimension equal to the import batch follows the batch at run time.
        if (ctx.BatchLeading(0) && rules.Length > 0 && rules[0].CopyFrom < 0 && rules[0].Fixed == ctx.ImportBatch && x.Length > 0 && x[0] == ctx.ImportBatch)
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
}
