using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, dampening, Nesterov and coupled weight decay (PyTorch's update rule):
/// g ← ∇ + λ·θ;  b ← μ·b + (1 − dampening)·g (b = g at the first step);  g ← g + μ·b (Nesterov) or b;  θ ← θ − lr·g.
/// </summary>
public sealed class Sgd(IEnumerable<Parameter> parameters, float lr, float momentum = 0, float dampening = 0, bool nesterov = false, float weightDecay = 0)
{
    readonly Parameter[] _parameters = parameters.ToArray();
    readonly Dictionary<Parameter, float[]> _buffers = new();

    public float LearningRate { get; set; } = lr;
    public float Momentum { get; } = momentum;
    public float Dampening { get; } = dampening;
    public bool Nesterov { get; } = nesterov;
    public float WeightDecay { get; } = weightDecay;

    /// <summary>Updates every trainable parameter that has a gradient.</summary>
    public void Step()
    {
        foreach (var p in _parameters)
        {
            if (!p.Trainable || p.Grad == null) continue;
            var theta = p.Value.Span; var grad = p.Grad.Span;
            float[]? buf = null;
            bool first = false;
            if (Momentum != 0 && !_buffers.TryGetValue(p, out buf)) { _buffers[p] = buf = new float[theta.Length]; first = true; }
            for (int i = 0; i < theta.Length; i++)
            {
                float g = grad[i] + WeightDecay * theta[i];
                if (buf != null)
                {
                    buf[i] = first ? g : Momentum * buf[i] + (1 - Dampening) * g;
                    g = Nesterov ? g + Momentum * buf[i] : buf[i];
                }
                theta[i] -= LearningRate * g;
            }
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.Grad?.Span.Clear();
    }
}
