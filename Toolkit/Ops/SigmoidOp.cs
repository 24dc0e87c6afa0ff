using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Sigmoid: y = 1 / (1 + e^−x). Gradient: dx = g·y·(1 − y).</summary>
public sealed class SigmoidOp : UnaryOp
{
    public override string Type => "Sigmoid";
    public override float Scalar(float x) => 1f / (1f + MathF.Exp(-x));
    public override bool GradientFromOutput => true;
    public override float Derivative(float x, float y) => y * (1 - y);
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);
}
