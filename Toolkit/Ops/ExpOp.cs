using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Exp: y = eˣ. Gradient: dx = g·y (read from the output).</summary>
public sealed class ExpOp : UnaryOp
{
    public override string Type => "Exp";
    public override float Scalar(float x) => MathF.Exp(x);
    public override float Derivative(float x, float y) => y;
    public override bool GradientFromOutput => true;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Exp(x, y);
}
