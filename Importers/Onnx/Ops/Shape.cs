namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Shape (start/end from opset 15), folded from the import-time shape. The element read from the batch axis of a
/// batch-carrying value is marked (<see cref="ConstTensor.BatchFactor"/>), so Expand, Tile and Reshape targets built
/// from it follow the batch at run time.
/// </summary>
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
        var shape = ConstTensor.FromInts(dims, [dims.Length]);
        if (start == 0 && end > 0 && !ctx.IsConstant(0) && ctx.BatchLeading(0))
            shape = shape.WithBatch(ConstTensor.FromInts(dims.Select((_, i) => i == 0 ? 1L : 0L).ToArray(), [dims.Length]), ctx.InputName(0));
        ctx.SetConst(0, shape);
    }
}
