using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// Sum, Mean and Max of any number of inputs with broadcasting, built as a chain of two-input ops
/// (and a final scale by 1/n for Mean).
/// </summary>
static class Variadic
{
    public static void Import(OnnxNodeContext ctx, string kind)
    {
        int n = ctx.InputCount;
        if (n == 0) throw ctx.Error("needs at least one input.");
        if (Enumerable.Range(0, n).All(ctx.IsConstant))
        {
            var acc = ctx.Const(0);
            for (int i = 1; i < n; i++) acc = ctx.FoldBinary(kind == "Max" ? "Max" : "Add", acc, ctx.Const(i));
            if (kind == "Mean") acc = ctx.FoldBinary("Mul", acc, ConstTensor.Scalar(acc.Type, 1.0 / n));
            ctx.SetConst(0, acc);
            return;
        }
        string output = ctx.Proto.Output[0];
        bool scale = kind == "Mean";
        if (n == 1 && !scale) { ctx.Emit(new IdentityOp(), [0]); return; }
        string current = ctx.InputName(0);
        for (int i = 1; i < n; i++)
        {
            bool last = i == n - 1 && !scale;
            string next = last ? output : $"{ctx.Name}/{kind}_{i}";
            Op op = kind == "Max" ? new MaxOp() : new AddOp();
            ctx.EmitNamed(op, [current, ctx.InputName(i)], [next], last ? ctx.Name : $"{ctx.Name}/{kind}_{i}");
            current = next;
        }
        if (scale) ctx.EmitNamed(new ScaleOp(1f / n), [current], [output], ctx.Name);
    }
}
