using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Scale by a constant: y = factor·x (the mean of a variadic Mean). Gradient: dx = factor·g.</summary>
public sealed class ScaleOp(float factor) : UnaryOp
{
    public float Factor { get; } = factor;
    public override string Type => "Scale";
    public override float Scalar(float x) => Factor * x;
    public override float Derivative(float x, float y) => Factor;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Multiply(x, Factor, y);
    public override string Describe() => $"Scale({Factor})";
}
