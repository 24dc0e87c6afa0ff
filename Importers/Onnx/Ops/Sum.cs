namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Sum of any number of inputs with numpy broadcasting.</summary>
public sealed class Sum : IOnnxOp
{
    public string OpType => "Sum";
    public int MinOpset => 8;
    public void Import(OnnxNodeContext ctx) => Variadic.Import(ctx, "Sum");
}
