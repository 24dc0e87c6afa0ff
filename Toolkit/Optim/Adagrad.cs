using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>Adagrad (PyTorch's rule, no lr decay): g ← ∇ + λ·θ;  s ← s + g²;  θ ← θ − lr·g/(√s + ε).</summary>
public sealed class Adagrad(IEnumerable<ParameterGroup> groups, float epsilon = 1e-10f, float initialAccumulator = 0) : Optimizer(groups)
{
    public float Epsilon { get; } = epsilon;
    public float InitialAccumulator { get; } = initialAccumulator;

    protected override void Update(ParameterGroup group, Parameter p, Span<float> theta, Span<float> grad)
    {
        bool fresh = !HasState(p, "sum");
        var s = State(p, "sum");
        if (fresh && InitialAccumulator != 0) Array.Fill(s, InitialAccumulator);
        float lr = group.LearningRate, wd = group.WeightDecay;
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i] + wd * theta[i];
            s[i] += g * g;
            theta[i] -= lr * g / (MathF.Sqrt(s[i]) + Epsilon);
        }
    }
}
