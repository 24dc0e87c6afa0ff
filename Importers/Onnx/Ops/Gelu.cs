using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Gelu (opset 20; approximate "none" or "tanh") → <see cref="GeluOp"/>.</summary>
public sealed class Gelu : IOnnxOp
{
    public string OpType => "Gelu";
    public int MinOpset => 20;

    public void Import(OnnxNodeContext ctx)
    {
        var approximate = ctx.String("approximate", "none");
        if (approximate is not ("none" or "tanh")) throw ctx.Error($"approximate='{approximate}' is not supported ('none' and 'tanh' are).");
        ctx.Emit(new GeluOp(approximate == "tanh"), [0]);
    }
}
