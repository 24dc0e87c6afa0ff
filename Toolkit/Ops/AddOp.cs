using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>Elementwise Add with numpy broadcasting. Gradient: d/da = g, d/db = g (each summed over its broadcast dimensions).</summary>
public sealed class AddOp() : BinaryOp(BinaryKind.Add)
{
    public override string Type => "Add";
}
