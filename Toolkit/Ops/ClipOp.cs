using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Clip: y = min(max(x, min), max). Gradient: dx = g where min ≤ x ≤ max, else 0.</summary>
public sealed class ClipOp(float min, float max) : UnaryOp
{
    public float Min { get; } = min;
    public float Max { get; } = max;
    public override string Type => "Clip";
    public override float Scalar(float x) => float.IsNaN(x) ? x : MathF.Min(MathF.Max(x, Min), Max);
    public override float Derivative(float x, float y) => x >= Min && x <= Max ? 1 : 0;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        TensorPrimitives.Max(x, Min, y);
        TensorPrimitives.Min(y, Max, y);
    }
    public override string Describe() => $"Clip({Min}, {Max})";
}
