namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Constant (value, value_float(s), value_int(s)); becomes an import-time constant.</summary>
public sealed class Constant : IOnnxOp
{
    public string OpType => "Constant";
    public bool Runtime => false;

    public void Import(OnnxNodeContext ctx)
    {
        ConstTensor value;
        if (ctx.TensorAttr("value") is { } t) value = ctx.TensorOf(t)!;
        else if (ctx.HasAttr("value_float")) value = ConstTensor.Scalar(OnnxDataType.Float, ctx.Float("value_float", 0));
        else if (ctx.Floats("value_floats") is { } fs) value = ConstTensor.FromFloats(fs, [fs.Length]);
        else if (ctx.HasAttr("value_int")) value = ConstTensor.Scalar(OnnxDataType.Int64, ctx.Int("value_int", 0));
        else if (ctx.Longs("value_ints") is { } ls) value = ConstTensor.FromInts(ls, [ls.Length]);
        else throw ctx.Error("has no supported value attribute (sparse and string constants are not supported).");
        ctx.SetConst(0, value);
    }
}
