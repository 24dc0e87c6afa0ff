using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX ConstantOfShape: a tensor of the given (constant) shape filled with the value attribute (float 0 by default).</summary>
public sealed class ConstantOfShape : IOnnxOp
{
    public string OpType => "ConstantOfShape";
    public int MinOpset => 9;
    public bool Runtime => false;

    public void Import(OnnxNodeContext ctx)
    {
        var dims = ctx.Const(0).ToLongs();
        if (dims.Any(d => d < 0 || d > int.MaxValue)) throw ctx.Error($"shape [{string.Join(",", dims)}] has an invalid dimension.");
        long count;
        try { count = Shapes.ElementCount(dims.AsSpan()); }
        catch (ShapeException e) { throw ctx.Error(e.Message); }
        var fill = ctx.TensorAttr("value") is { } t ? ctx.TensorOf(t)! : ConstTensor.Scalar(OnnxDataType.Float, 0);
        if (fill.Length != 1) throw ctx.Error("value must hold exactly one element.");
        ctx.CheckConstantSize(count, $"shape [{string.Join(",", dims)}]");
        var data = new double[count];
        Array.Fill(data, fill.Data[0]);
        ctx.SetConst(0, new ConstTensor(fill.Type, dims.Select(d => (int)d).ToArray(), data));
    }
}
