using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Neg: y = −x. Gradient: dx = −g (reads neither input nor output).</summary>
public sealed class NegOp : UnaryOp
{
    public override string Type => "Neg";
    public override float Scalar(float x) => -x;
    public override float Derivative(float x, float y) => -1;
    public override bool GradientFromOutput => true;
    public override bool BackwardReadsOutput(int output) => false;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Negate(x, y);
}
