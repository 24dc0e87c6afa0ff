using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Reshape (0 copies the input dimension unless allowzero, −1 infers). A leading dimension equal to the
/// model's batch on a batch-carrying input is made to follow the batch, so [1,256] works at any batch N; so is an element
/// read from the run-time batch (<see cref="ConstTensor.BatchFactor"/>).
/// </summary>
public sealed class Reshape : IOnnxOp
{
    public string OpType => "Reshape";
    public int MinOpset => 5;

    public void Import(OnnxNodeContext ctx)
    {
        var shape = ctx.Const(1);
        var target = shape.ToLongs();
        bool allowZero = ctx.Int("allowzero", 0) != 0;
        var rules = new DimRule[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            long v = target[i];
            rules[i] = v == 0 && !allowZero ? DimRule.Copy(i) : v == -1 ? DimRule.Infer
                : v >= 0 && v <= int.MaxValue ? DimRule.Of((int)v) : throw ctx.Error($"shape value {v} is invalid.");
        }
        // An element read from the run-time batch: the input's batch when it leads both, else (a multiple of the batch
        // too, e.g. batch × heads) the one inferred size.
        if (shape.HasBatch && !ctx.IsConstant(0))
            for (int i = 0; i < target.Length; i++)
            {
                if (!shape.DependsOnBatch(i) || rules[i].CopyFrom >= 0) continue;
                if (i == 0 && shape.IsBatch(i) && ctx.BatchLeading(0)) rules[i] = DimRule.Copy(0);
                else if (rules.All(r => r.CopyFrom >= 0 || r.Fixed >= 0)) rules[i] = DimRule.Infer;
            }
        Shaping.Emit(ctx, rules, "Reshape");
    }
}
