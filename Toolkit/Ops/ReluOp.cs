using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Relu: y = max(x, 0). Gradient: dx = g·[x &gt; 0].</summary>
public sealed class ReluOp : UnaryOp
{
    public override string Type => "Relu";
    public override float Scalar(float x) => x > 0 ? x : 0;
    public override float Derivative(float x, float y) => x > 0 ? 1 : 0;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
}
