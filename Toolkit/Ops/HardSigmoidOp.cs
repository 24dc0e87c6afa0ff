namespace TransferKit.Toolkit.Ops;

/// <summary>HardSigmoid: y = clamp(alpha·x + beta, 0, 1). Gradient: dx = g·alpha inside (0, 1), else 0.</summary>
public sealed class HardSigmoidOp(float alpha, float beta) : UnaryOp
{
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public override string Type => "HardSigmoid";
    public override float Scalar(float x) => Math.Clamp(Alpha * x + Beta, 0f, 1f);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) { float t = Alpha * x + Beta; return t > 0 && t < 1 ? Alpha : 0; }
    public override string Describe() => $"HardSigmoid(alpha={Alpha}, beta={Beta})";

    /// <summary>Whole vectors compute min(max(α·x + β, 0), 1) lane by lane, a NaN lane kept NaN as the scalar clamp does; the tail runs <see cref="Scalar"/>.</summary>
    public override void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var alpha = new System.Numerics.Vector<float>(Alpha); var beta = new System.Numerics.Vector<float>(Beta);
            for (; i <= x.Length - w; i += w)
            {
                var t = alpha * new System.Numerics.Vector<float>(x.Slice(i, w)) + beta;
                var clamped = System.Numerics.Vector.Min(System.Numerics.Vector.Max(t, System.Numerics.Vector<float>.Zero), System.Numerics.Vector<float>.One);
                System.Numerics.Vector.ConditionalSelect(System.Numerics.Vector.Equals(t, t), clamped, t).CopyTo(y.Slice(i, w));
            }
        }
        for (; i < x.Length; i++) y[i] = Scalar(x[i]);
    }
}
