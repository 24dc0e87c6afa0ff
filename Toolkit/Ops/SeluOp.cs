namespace TransferKit.Toolkit.Ops;

/// <summary>Selu: y = γ·(x &gt; 0 ? x : α(eˣ − 1)). Gradient: dx = g·(x &gt; 0 ? γ : y + γα).</summary>
public sealed class SeluOp(float alpha, float gamma) : UnaryOp
{
    /// <summary>ONNX's default α (Klambauer et al. 2017).</summary>
    public const float DefaultAlpha = 1.67326319217681884765625f;
    /// <summary>ONNX's default γ.</summary>
    public const float DefaultGamma = 1.05070102214813232421875f;

    public float Alpha { get; } = alpha;
    public float Gamma { get; } = gamma;
    public override string Type => "Selu";
    public override float Scalar(float x) => x > 0 ? Gamma * x : Gamma * (Alpha * MathF.Exp(x) - Alpha);
    public override float Derivative(float x, float y) => x > 0 ? Gamma : y + Gamma * Alpha;
    public override string Describe() => $"Selu(alpha={Alpha}, gamma={Gamma})";
}
