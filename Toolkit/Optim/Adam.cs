using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// Adam (coupled L2 weight decay) and AdamW (decoupled decay), PyTorch's rules with bias correction:
/// Adam: g ← ∇ + λ·θ.  AdamW: θ ← θ·(1 − lr·λ).  Then m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
/// θ ← θ − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
/// </summary>
public class Adam(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, bool decoupled = false) : Optimizer(groups)
{
    public float Beta1 { get; } = beta1;
    public float Beta2 { get; } = beta2;
    public float Epsilon { get; } = epsilon;
    public bool Decoupled { get; } = decoupled;

    protected override void Update(ParameterGroup group, Parameter p, Span<float> theta, Span<float> grad)
    {
        var m = State(p, "exp_avg"); var v = State(p, "exp_avg_sq");
        double t = StepCount;
        double c1 = 1 - Math.Pow(Beta1, t), c2 = 1 - Math.Pow(Beta2, t);
        float lr = group.LearningRate, wd = group.WeightDecay;
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i];
            if (Decoupled) theta[i] *= 1 - lr * wd;
            else g += wd * theta[i];
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            theta[i] -= (float)(lr * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + Epsilon));
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay.</summary>
public sealed class AdamW(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    : Adam(groups, beta1, beta2, epsilon, decoupled: true);
