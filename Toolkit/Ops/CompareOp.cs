using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Equal, Less and Greater with numpy broadcasting, as a float mask: y = 1 where a ⊙ b holds, else 0 (the graph holds
/// float tensors; Where reads any nonzero as true). Gradient: zero for both operands (the mask is piecewise constant),
/// so nothing is added, and a comparison on the path of a trainable tensor does not stop training.
/// </summary>
public sealed class CompareOp : BinaryOp
{
    /// <summary>A comparison of <paramref name="kind"/> (Equal, Less or Greater).</summary>
    public CompareOp(BinaryKind kind) : base(kind)
    {
        if (kind is not (BinaryKind.Equal or BinaryKind.Less or BinaryKind.Greater))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "a comparison is Equal, Less or Greater");
    }

    public override string Type => Kind.ToString();

    /// <summary>The gradient is zero almost everywhere: backward adds nothing.</summary>
    public override void Backward(OpContext ctx) { }

    public override bool BackwardReadsInput(int input) => false;

    public override bool BackwardReadsOutput(int output) => false;
}
