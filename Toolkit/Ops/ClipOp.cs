using System.Numerics;
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
    /// <summary>dx += g where min ≤ x ≤ max (dx = that when <paramref name="add"/> is false), a vector mask-and-add; the tail runs the scalar formula.</summary>
    public override void ApplyGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx, bool add = true)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            var lo = new Vector<float>(Min); var hi = new Vector<float>(Max);
            for (; i <= x.Length - w; i += w)
            {
                var v = new Vector<float>(x.Slice(i, w));
                var mask = Vector.BitwiseAnd(Vector.GreaterThanOrEqual(v, lo), Vector.LessThanOrEqual(v, hi));
                var masked = Vector.ConditionalSelect(mask, new Vector<float>(g.Slice(i, w)), Vector<float>.Zero);
                (add ? new Vector<float>(dx.Slice(i, w)) + masked : masked).CopyTo(dx.Slice(i, w));
            }
        }
        for (; i < x.Length; i++) dx[i] = (add ? dx[i] : 0) + g[i] * Derivative(x[i], y[i]);
    }

    public override string Describe() => $"Clip({Min}, {Max})";
}
