namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Max of any number of inputs with numpy broadcasting.</summary>
public sealed class Max : IOnnxOp
{
    public string OpType => "Max";
    public int MinOpset => 8;
    public void Import(OnnxNodeContext ctx) => Variadic.Import(ctx, "Max");
}
