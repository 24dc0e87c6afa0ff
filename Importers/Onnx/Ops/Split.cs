using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Split (sizes: attribute before opset 13, input after; equal parts otherwise, the last smaller from opset 18).</summary>
public sealed class Split : IOnnxOp
{
    public string OpType => "Split";

    public void Import(OnnxNodeContext ctx)
    {
        var x = ctx.Shape(0);
        int axis = Shapes.NormalizeAxis((int)ctx.Int("axis", 0), x.Length);
        int[]? sizes = ctx.Opset < 13 ? ctx.Ints("split") : ctx.HasInput(1) ? ctx.Const(1).ToInts() : null;
        int parts = ctx.OutputCount;
        if (sizes == null)
        {
            int chunk = (x[axis] + parts - 1) / parts;
            if (ctx.Opset < 18 && x[axis] % parts != 0) throw ctx.Error($"axis size {x[axis]} does not split into {parts} equal parts.");
            sizes = Enumerable.Range(0, parts).Select(i => Math.Max(0, Math.Min(chunk, x[axis] - i * chunk))).ToArray();
        }
        if (sizes.Length != parts) throw ctx.Error($"{sizes.Length} split sizes for {parts} outputs.");
        ctx.Emit(new SplitOp(axis, sizes), [0]);
    }
}
