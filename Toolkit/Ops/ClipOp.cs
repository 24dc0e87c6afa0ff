using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Clip: y = min(max(x, min), max). Gradient: dx = g where min &lt; y &lt; max, else 0 — the open interval, as PyTorch's
/// hardtanh/ReLU6 (x on a bound gets 0), kept as one bit per element.
/// </summary>
public sealed class ClipOp(float min, float max) : MaskedUnaryOp
{
    public float Min { get; } = min;
    public float Max { get; } = max;
    public override string Type => "Clip";
    public override float Scalar(float x) => float.IsNaN(x) ? x : MathF.Min(MathF.Max(x, Min), Max);
    protected override float PassLow => Min;
    protected override float PassHigh => Max;
    internal override (float Low, float High)? ClampBounds => (Min, Max);
    /// <summary>Max then Min a cache-sized block at a time, so the second pass reads what the first just wrote from L1.</summary>
    public override void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        const int block = 4096;
        for (int i = 0; i < x.Length; i += block)
        {
            int n = Math.Min(block, x.Length - i);
            var dst = y.Slice(i, n);
            TensorPrimitives.Max(x.Slice(i, n), Min, dst);
            TensorPrimitives.Min(dst, Max, dst);
        }
    }
    public override string Describe() => $"Clip({Min}, {Max})";
}
