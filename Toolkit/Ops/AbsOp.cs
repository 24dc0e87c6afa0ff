using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Abs: y = |x|. Gradient: dx = g·sign(x) (0 at x = 0, as PyTorch's abs).</summary>
public sealed class AbsOp : UnaryOp
{
    public override string Type => "Abs";
    public override float Scalar(float x) => MathF.Abs(x);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => x > 0 ? 1 : x < 0 ? -1 : 0;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Abs(x, y);
}
