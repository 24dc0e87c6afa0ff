namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Gelu (ONNX opset 20). Exact: y = x·Φ(x) = ½x(1 + erf(x/√2)); gradient dx = g·(Φ(x) + x·φ(x)), φ(x) = e^−x²/2/√(2π).
/// <c>approximate="tanh"</c>: y = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³); gradient
/// dx = g·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)).
/// </summary>
public sealed class GeluOp(bool tanh) : UnaryOp
{
    const double SqrtTwoOverPi = 0.7978845608028654, Cubic = 0.044715, InvSqrtTwo = 0.7071067811865476, InvSqrtTwoPi = 0.3989422804014327;

    /// <summary>Whether the tanh approximation is used instead of the exact erf form.</summary>
    public bool Tanh { get; } = tanh;
    public override string Type => "Gelu";

    public override float Scalar(float x)
    {
        double v = x;
        if (Tanh) return (float)(0.5 * v * (1 + Math.Tanh(SqrtTwoOverPi * (v + Cubic * v * v * v))));
        return (float)(0.5 * v * (1 + ErfOp.Erf(v * InvSqrtTwo)));
    }

    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y)
    {
        double v = x;
        if (Tanh)
        {
            double t = Math.Tanh(SqrtTwoOverPi * (v + Cubic * v * v * v));
            return (float)(0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SqrtTwoOverPi * (1 + 3 * Cubic * v * v));
        }
        return (float)(0.5 * (1 + ErfOp.Erf(v * InvSqrtTwo)) + v * InvSqrtTwoPi * Math.Exp(-0.5 * v * v));
    }

    public override string Describe() => Tanh ? "Gelu(approximate=tanh)" : "Gelu";
}
