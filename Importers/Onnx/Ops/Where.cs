using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Where(condition, X, Y) (opset 9; 16 widens the types) → <see cref="WhereOp"/>. The bool condition is a float
/// mask in the graph (a comparison's output, or a bool constant read as 0/1).
/// </summary>
public sealed class Where : IOnnxOp
{
    public string OpType => "Where";
    public int MinOpset => 9;

    public void Import(OnnxNodeContext ctx)
    {
        if (ctx.IsConstant(0) && ctx.IsConstant(1) && ctx.IsConstant(2)) { ctx.SetConst(0, ConstEval.Where(ctx.Const(0), ctx.Const(1), ctx.Const(2))); return; }
        ctx.EmitNamed(new WhereOp(), [ctx.FloatInput(0), ctx.FloatInput(1), ctx.FloatInput(2)], [ctx.Proto.Output[0]], ctx.Name);
    }
}
