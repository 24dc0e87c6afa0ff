using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Reciprocal: y = 1 / x. Gradient: dx = −g·y² (read from the output).</summary>
public sealed class ReciprocalOp : UnaryOp
{
    public override string Type => "Reciprocal";
    public override float Scalar(float x) => 1f / x;
    public override float Derivative(float x, float y) => -y * y;
    public override bool GradientFromOutput => true;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Reciprocal(x, y);
}
