namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Shape (start/end from opset 15), folded from the import-time shape; Reshape makes batch-sized results follow the batch.</summary>
public sealed class Shape : IOnnxOp
{
    public string OpType => "Shape";
    public bool Runtime => false;

    public void Import(OnnxNodeContext ctx)
    {
        var s = ctx.Shape(0);
        int rank = s.Length;
        int start = (int)ctx.Int("start", 0), end = (int)ctx.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank); end = Math.Clamp(end, start, rank);
        var dims = s[start..end].Select(d => (long)d).ToArray();
        ctx.SetConst(0, ConstTensor.FromInts(dims, [dims.Length]));
    }
}
