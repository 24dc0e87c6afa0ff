using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// RMSprop (PyTorch's rule): g ← ∇ + λ·θ;  v ← α·v + (1 − α)·g²;  centered: a ← α·a + (1 − α)·g, d = v − a²;
/// denominator = √d + ε;  with momentum: b ← μ·b + g/denominator, θ ← θ − lr·b;  else θ ← θ − lr·g/denominator.
/// </summary>
public sealed class RmsProp(IEnumerable<ParameterGroup> groups, float alpha = 0.99f, float epsilon = 1e-8f, float momentum = 0, bool centered = false) : Optimizer(groups)
{
    public float Alpha { get; } = alpha;
    public float Epsilon { get; } = epsilon;
    public float Momentum { get; } = momentum;
    public bool Centered { get; } = centered;

    protected override void Update(ParameterGroup group, Parameter p, Span<float> theta, Span<float> grad)
    {
        var sq = State(p, "square_avg");
        var avg = Centered ? State(p, "grad_avg") : null;
        var buf = Momentum != 0 ? State(p, "momentum_buffer") : null;
        float lr = group.LearningRate, wd = group.WeightDecay;
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i] + wd * theta[i];
            sq[i] = Alpha * sq[i] + (1 - Alpha) * g * g;
            float d = sq[i];
            if (avg != null) { avg[i] = Alpha * avg[i] + (1 - Alpha) * g; d -= avg[i] * avg[i]; }
            float denom = MathF.Sqrt(d) + Epsilon;
            if (buf != null) { buf[i] = Momentum * buf[i] + g / denom; theta[i] -= lr * buf[i]; }
            else theta[i] -= lr * g / denom;
        }
    }
}
