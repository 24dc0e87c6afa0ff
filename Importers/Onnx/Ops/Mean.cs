namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Mean of any number of inputs with numpy broadcasting.</summary>
public sealed class Mean : IOnnxOp
{
    public string OpType => "Mean";
    public int MinOpset => 8;
    public void Import(OnnxNodeContext ctx) => Variadic.Import(ctx, "Mean");
}
