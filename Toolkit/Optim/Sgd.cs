using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// SGD with momentum, dampening, Nesterov and coupled weight decay (PyTorch's rule):
/// g ← ∇ + λ·θ;  b ← g at the first step, then μ·b + (1 − dampening)·g;  g ← g + μ·b (Nesterov) or b;  θ ← θ − lr·g.
/// </summary>
public sealed class Sgd(IEnumerable<ParameterGroup> groups, float momentum = 0, float dampening = 0, bool nesterov = false) : Optimizer(groups)
{
    public Sgd(IEnumerable<Parameter> parameters, float lr, float momentum = 0, float dampening = 0, bool nesterov = false, float weightDecay = 0)
        : this([new ParameterGroup(parameters, lr, weightDecay)], momentum, dampening, nesterov) { }

    public float Momentum { get; } = momentum;
    public float Dampening { get; } = dampening;
    public bool Nesterov { get; } = nesterov;

    protected override void Update(ParameterGroup group, Parameter p, Span<float> theta, Span<float> grad)
    {
        float lr = group.LearningRate, wd = group.WeightDecay;
        // The buffer starts as the first gradient; whether it exists is the whole of "started" (so snapshots restore it).
        bool first = Momentum != 0 && !HasState(p, "momentum_buffer");
        float[]? buf = Momentum != 0 ? State(p, "momentum_buffer") : null;
        for (int i = 0; i < theta.Length; i++)
        {
            float g = grad[i] + wd * theta[i];
            if (buf != null)
            {
                buf[i] = first ? g : Momentum * buf[i] + (1 - Dampening) * g;
                g = Nesterov ? g + Momentum * buf[i] : buf[i];
            }
            theta[i] -= lr * g;
        }
    }
}
