using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Tanh: y = tanh(x). Gradient: dx = g·(1 − y²).</summary>
public sealed class TanhOp : UnaryOp
{
    public override string Type => "Tanh";
    public override float Scalar(float x) => MathF.Tanh(x);
    public override bool GradientFromOutput => true;
    public override float Derivative(float x, float y) => 1 - y * y;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);
}
