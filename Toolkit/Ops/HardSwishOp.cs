namespace TransferKit.Toolkit.Ops;

/// <summary>HardSwish: y = x·clamp(x/6 + 1/2, 0, 1). Gradient: dx = g·(x &lt; −3 ? 0 : x &gt; 3 ? 1 : x/3 + 1/2).</summary>
public sealed class HardSwishOp : UnaryOp
{
    public override string Type => "HardSwish";
    public override float Scalar(float x) => x * Math.Clamp(x / 6f + 0.5f, 0f, 1f);
    public override float Derivative(float x, float y) => x < -3 ? 0 : x > 3 ? 1 : x / 3f + 0.5f;
}
