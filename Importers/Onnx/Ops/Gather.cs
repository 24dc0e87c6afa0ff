namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Gather on constants (shape arithmetic), folded at import.</summary>
public sealed class Gather : IOnnxOp
{
    public string OpType => "Gather";
    public bool Runtime => false;
    public void Import(OnnxNodeContext ctx) => ctx.SetConst(0, ConstEval.Gather(ctx.Const(0), ctx.Const(1), (int)ctx.Int("axis", 0)));
}
