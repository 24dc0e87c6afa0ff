namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Dropout: identity at inference; in training, y = x·mask/(1 − ratio) with a seeded mask.
/// Gradient: dx = g·mask/(1 − ratio).
/// </summary>
public sealed class DropoutOp(float ratio) : Op
{
    public float Ratio { get; } = ratio;
    public override string Type => "Dropout";
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];

    public override void Forward(OpContext ctx)
    {
        // Inference: a plain copy (training masks arrive with the trainer).
        ctx.Inputs[0].Span.CopyTo(ctx.Outputs[0].Span);
    }

    public override string Describe() => $"Dropout(ratio={Ratio})";
}
