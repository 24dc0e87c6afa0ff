namespace TransferKit.Toolkit.Ops;

/// <summary>Identity: y = x, as a view. Gradient: dx = g.</summary>
public sealed class IdentityOp : Op
{
    public override string Type => "Identity";
    public override bool IsView => true;
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];
    public override void Forward(OpContext ctx) { }
    public override bool HasBackward => true;

    /// <summary>Backward moves the output gradient back into place; it reads no values.</summary>
    public override bool BackwardReadsInput(int input) => false;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => false;
    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx != null) System.Numerics.Tensors.TensorPrimitives.Add(gx.Span, ctx.OutputGrads[0].Span, gx.Span);
    }
}
