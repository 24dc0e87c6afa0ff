namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Mish: y = x·tanh(softplus(x)). Gradient: dx = g·(tanh(sp) + x·(1 − tanh²(sp))·σ(x)), sp = softplus(x)
/// (d softplus/dx = σ(x)).
/// </summary>
public sealed class MishOp : UnaryOp
{
    public override string Type => "Mish";
    public override float Scalar(float x) => x * MathF.Tanh(SoftplusOp.Softplus(x));

    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y)
    {
        float t = MathF.Tanh(SoftplusOp.Softplus(x));
        float s = 1f / (1f + MathF.Exp(-x));
        return t + x * (1 - t * t) * s;
    }
}
