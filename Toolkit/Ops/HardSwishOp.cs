namespace TransferKit.Toolkit.Ops;

/// <summary>HardSwish: y = x·clamp(x/6 + 1/2, 0, 1). Gradient: dx = g·(x &lt; −3 ? 0 : x &gt; 3 ? 1 : x/3 + 1/2).</summary>
public sealed class HardSwishOp : UnaryOp
{
    public override string Type => "HardSwish";
    public override float Scalar(float x) => x * Math.Clamp(x / 6f + 0.5f, 0f, 1f);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => x < -3 ? 0 : x > 3 ? 1 : x / 3f + 0.5f;

    /// <summary>Whole vectors compute x·min(max(x/6 + 1/2, 0), 1) lane by lane (a NaN lane stays NaN through the product); the tail runs <see cref="Scalar"/>.</summary>
    public override void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var sixth = new System.Numerics.Vector<float>(6f); var half = new System.Numerics.Vector<float>(0.5f);
            for (; i <= x.Length - w; i += w)
            {
                var v = new System.Numerics.Vector<float>(x.Slice(i, w));
                var gate = System.Numerics.Vector.Min(System.Numerics.Vector.Max(v / sixth + half, System.Numerics.Vector<float>.Zero), System.Numerics.Vector<float>.One);
                (v * gate).CopyTo(y.Slice(i, w));
            }
        }
        for (; i < x.Length; i++) y[i] = Scalar(x[i]);
    }
}
