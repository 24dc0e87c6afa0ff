using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Sqrt: y = √x. Gradient: dx = g / (2y) (read from the output).</summary>
public sealed class SqrtOp : UnaryOp
{
    public override string Type => "Sqrt";
    public override float Scalar(float x) => MathF.Sqrt(x);
    public override float Derivative(float x, float y) => 0.5f / y;
    public override bool GradientFromOutput => true;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sqrt(x, y);
}
