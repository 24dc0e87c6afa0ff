using System.Numerics;
using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Relu: y = max(x, 0). Gradient: dx = g·[y &gt; 0] (the same mask as x &gt; 0, read from the output so the input need not be kept).</summary>
public sealed class ReluOp : UnaryOp
{
    public override string Type => "Relu";
    public override float Scalar(float x) => x > 0 ? x : 0;
    public override float Derivative(float x, float y) => y > 0 ? 1 : 0;
    public override bool GradientFromOutput => true;
    public override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>dx += g where y &gt; 0 (dx = that when <paramref name="add"/> is false), a vector mask-and-add; the tail runs the scalar formula.</summary>
    public override void ApplyGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx, bool add = true)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; i <= y.Length - w; i += w)
            {
                var mask = Vector.GreaterThan(new Vector<float>(y.Slice(i, w)), Vector<float>.Zero);
                var masked = Vector.ConditionalSelect(mask, new Vector<float>(g.Slice(i, w)), Vector<float>.Zero);
                (add ? new Vector<float>(dx.Slice(i, w)) + masked : masked).CopyTo(dx.Slice(i, w));
            }
        }
        for (; i < y.Length; i++) dx[i] = (add ? dx[i] : 0) + g[i] * Derivative(0, y[i]);
    }
}
