using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Log (natural): y = ln x. Gradient: dx = g / x.</summary>
public sealed class LogOp : UnaryOp
{
    public override string Type => "Log";
    public override float Scalar(float x) => MathF.Log(x);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => 1f / x;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);
}
