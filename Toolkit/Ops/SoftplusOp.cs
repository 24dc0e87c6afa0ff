namespace TransferKit.Toolkit.Ops;

/// <summary>Softplus: y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so it never overflows. Gradient: dx = g·σ(x).</summary>
public sealed class SoftplusOp : UnaryOp
{
    public override string Type => "Softplus";
    public override float Scalar(float x) => Softplus(x);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => 1f / (1f + MathF.Exp(-x));

    /// <summary>ln(1 + eˣ) without overflow (shared with Mish).</summary>
    public static float Softplus(float x) => MathF.Max(x, 0) + (float)Math.Log(1 + Math.Exp(-Math.Abs((double)x)));
}
