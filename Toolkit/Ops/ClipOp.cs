using System.Numerics;
using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Clip: y = min(max(x, min), max). Gradient: dx = g where min &lt; y &lt; max, else 0 — the open interval, as PyTorch's
/// hardtanh/ReLU6 (x on a bound gets 0), read from the output so the input need not be kept.
/// </summary>
public sealed class ClipOp(float min, float max) : UnaryOp
{
    public float Min { get; } = min;
    public float Max { get; } = max;
    public override string Type => "Clip";
    public override float Scalar(float x) => float.IsNaN(x) ? x : MathF.Min(MathF.Max(x, Min), Max);
    public override float Derivative(float x, float y) => y > Min && y < Max ? 1 : 0;
    public override bool GradientFromOutput => true;
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
    /// <summary>dx += g where min &lt; y &lt; max (dx = that when <paramref name="add"/> is false), a vector mask-and-add; the tail runs the scalar formula.</summary>
    public override void ApplyGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx, bool add = true)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            var lo = new Vector<float>(Min); var hi = new Vector<float>(Max);
            for (; i <= y.Length - w; i += w)
            {
                var v = new Vector<float>(y.Slice(i, w));
                var mask = Vector.BitwiseAnd(Vector.GreaterThan(v, lo), Vector.LessThan(v, hi));
                var masked = Vector.ConditionalSelect(mask, new Vector<float>(g.Slice(i, w)), Vector<float>.Zero);
                (add ? new Vector<float>(dx.Slice(i, w)) + masked : masked).CopyTo(dx.Slice(i, w));
            }
        }
        for (; i < y.Length; i++) dx[i] = (add ? dx[i] : 0) + g[i] * Derivative(0, y[i]);
    }

    public override string Describe() => $"Clip({Min}, {Max})";
}
