namespace TransferKit.Toolkit.Ops;

/// <summary>Elu: y = x &gt; 0 ? x : α(eˣ − 1). Gradient: dx = g·(x &gt; 0 ? 1 : y + α).</summary>
public sealed class EluOp(float alpha) : UnaryOp
{
    /// <summary>The scale of the negative branch (ONNX default 1).</summary>
    public float Alpha { get; } = alpha;
    public override string Type => "Elu";
    public override float Scalar(float x) => x > 0 ? x : Alpha * (MathF.Exp(x) - 1);
    public override float Derivative(float x, float y) => x > 0 ? 1 : y + Alpha;
    public override string Describe() => $"Elu(alpha={Alpha})";
}
