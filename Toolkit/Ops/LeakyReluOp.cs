namespace TransferKit.Toolkit.Ops;

/// <summary>LeakyRelu: y = x ≥ 0 ? x : alpha·x. Gradient: dx = g·(x ≥ 0 ? 1 : alpha).</summary>
public sealed class LeakyReluOp(float alpha) : UnaryOp
{
    public float Alpha { get; } = alpha;
    public override string Type => "LeakyRelu";
    public override float Scalar(float x) => x >= 0 ? x : Alpha * x;
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => x >= 0 ? 1 : Alpha;
    public override string Describe() => $"LeakyRelu(alpha={Alpha})";
}
