namespace TransferKit.Toolkit.Ops;

/// <summary>HardSigmoid: y = clamp(alpha·x + beta, 0, 1). Gradient: dx = g·alpha inside (0, 1), else 0.</summary>
public sealed class HardSigmoidOp(float alpha, float beta) : UnaryOp
{
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public override string Type => "HardSigmoid";
    public override float Scalar(float x) => Math.Clamp(Alpha * x + Beta, 0f, 1f);
    public override float Derivative(float x, float y) { float t = Alpha * x + Beta; return t > 0 && t < 1 ? Alpha : 0; }
    public override string Describe() => $"HardSigmoid(alpha={Alpha}, beta={Beta})";
}
