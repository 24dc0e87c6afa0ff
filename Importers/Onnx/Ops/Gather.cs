using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Gather (axis; int32/int64 indices, negative from the end, a scalar index removes the axis): folded on a
/// constant (shape arithmetic, any type, the batch mark carried); on a run-time tensor → <see cref="GatherOp"/>, whose
/// indices must be constants.
/// </summary>
public sealed class Gather : IOnnxOp
{
    public string OpType => "Gather";

    public void Import(OnnxNodeContext ctx)
    {
        int axis = (int)ctx.Int("axis", 0);
        if (ctx.IsConstant(0)) { ctx.SetConst(0, ConstEval.Gather(ctx.Const(0), ctx.Const(1), axis)); return; }
        var indices = ctx.Const(1);
        if (indices.IsFloat) throw ctx.Error($"indices are {indices.Type}; Gather takes integer indices.");
        ctx.Emit(new GatherOp(axis, indices.ToLongs(), indices.Dims), [0]);
    }
}
