using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Relu: y = max(x, 0). Gradient: dx = g·[y &gt; 0] (the same mask as x &gt; 0), kept as one bit per element.</summary>
public sealed class ReluOp : MaskedUnaryOp
{
    public override string Type => "Relu";
    public override float Scalar(float x) => x > 0 ? x : 0;
    protected override float PassLow => 0f;
    protected override float PassHigh => float.NaN;
    internal override (float Low, float High)? ClampBounds => (0f, float.PositiveInfinity);
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
}
