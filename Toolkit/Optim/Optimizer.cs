using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>A set of parameters with its own learning rate and weight decay (discriminative learning rates).</summary>
public sealed class ParameterGroup(IEnumerable<Parameter> parameters, float lr, float weightDecay = 0)
{
    public Parameter[] Parameters { get; } = parameters.ToArray();
    /// <summary>What selected the group (a name glob, "default", "head", ...), for logs.</summary>
    public string Name { get; init; } = "";
    public float LearningRate { get; set; } = lr;
    /// <summary>The group's learning rate before any schedule (schedules scale from it).</summary>
    public float BaseLearningRate { get; set; } = lr;
    public float WeightDecay { get; set; } = weightDecay;
}

/// <summary>
/// Base of the optimizers: parameter groups, optional L1 penalty and gradient clipping applied before the update.
/// Each optimizer implements its published update rule in <see cref="Update"/>; state is kept per parameter.
/// </summary>
public abstract class Optimizer
{
    protected Optimizer(IEnumerable<ParameterGroup> groups) => Groups = groups.ToArray();

    public ParameterGroup[] Groups { get; }

    /// <summary>L1 penalty: adds l1·sign(θ) to the gradient.</summary>
    public float L1 { get; set; }

    /// <summary>Clip the global gradient norm to this value before the update (0 = off).</summary>
    public float ClipNorm { get; set; }

    /// <summary>Clip each gradient element to ±this value before the update (0 = off).</summary>
    public float ClipValue { get; set; }

    /// <summary>Steps taken.</summary>
    public long StepCount { get; protected set; }

    public IEnumerable<Parameter> Trainable => Groups.SelectMany(g => g.Parameters).Where(p => p.Trainable && p.Grad != null);

    public void ZeroGrad()
    {
        foreach (var g in Groups) foreach (var p in g.Parameters) p.Grad?.Span.Clear();
    }

    /// <summary>Global L2 norm of the trainable gradients.</summary>
    public double GradientNorm()
    {
        double s = 0;
        foreach (var p in Trainable) foreach (var v in p.Grad!.Span) s += (double)v * v;
        return Math.Sqrt(s);
    }

    public void Step()
    {
        StepCount++;
        if (ClipNorm > 0)
        {
            double norm = GradientNorm();
            if (norm > ClipNorm)
            {
                float scale = (float)(ClipNorm / (norm + 1e-6));
                foreach (var p in Trainable) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad!.Span, scale, p.Grad.Span);
            }
        }
        foreach (var group in Groups)
            foreach (var p in group.Parameters)
            {
                if (!p.Trainable || p.Grad == null) continue;
                var g = p.Grad.Span; var theta = p.Value.Span;
                if (ClipValue > 0) System.Numerics.Tensors.TensorPrimitives.Clamp(g, -ClipValue, ClipValue, g);
                if (L1 != 0) for (int i = 0; i < g.Length; i++) g[i] += L1 * MathF.Sign(theta[i]);
                Update(group, p, theta, g);
            }
    }

    /// <summary>Applies the update rule to one parameter (the gradient already clipped and penalized).</summary>
    protected abstract void Update(ParameterGroup group, Parameter p, Span<float> theta, Span<float> grad);

    /// <summary>Per-parameter state buffers, created zeroed on first use.</summary>
    protected float[] State(Parameter p, string name)
    {
        var key = (p, name);
        if (!_state.TryGetValue(key, out var buf)) _state[key] = buf = new float[p.Value.Length];
        return buf;
    }

    /// <summary>Whether a state buffer exists yet (false before the parameter's first update).</summary>
    protected bool HasState(Parameter p, string name) => _state.ContainsKey((p, name));

    readonly Dictionary<(Parameter, string), float[]> _state = new();

    /// <summary>A copy of everything stepping changes: state buffers, step count and the groups' learning rates.</summary>
    public OptimizerSnapshot Snapshot() => new(this,
        _state.ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone()), StepCount,
        Groups.Select(g => (g.LearningRate, g.BaseLearningRate)).ToArray());

    /// <summary>Puts the optimizer back to a <see cref="Snapshot"/> of itself; state created since is dropped.</summary>
    public void Restore(OptimizerSnapshot snapshot)
    {
        if (snapshot.Owner != this) throw new ArgumentException("The snapshot was taken of a different optimizer.");
        foreach (var key in _state.Keys.Where(k => !snapshot.State.ContainsKey(k)).ToList()) _state.Remove(key);
        foreach (var (key, values) in snapshot.State)
        {
            if (_state.TryGetValue(key, out var buf)) values.CopyTo(buf, 0);
            else _state[key] = (float[])values.Clone();
        }
        StepCount = snapshot.StepCount;
        for (int i = 0; i < Groups.Length; i++) (Groups[i].LearningRate, Groups[i].BaseLearningRate) = snapshot.Rates[i];
    }

    /// <summary>Every state buffer by parameter name and slot (for checkpoints).</summary>
    public IEnumerable<(string Parameter, string Slot, float[] Values)> StateBuffers =>
        _state.Select(kv => (kv.Key.Item1.Name, kv.Key.Item2, kv.Value));

    /// <summary>A copy of everything the next steps depend on (see <see cref="OptimizerState"/>).</summary>
    public OptimizerState ExportState() => new()
    {
        Type = GetType().Name,
        StepCount = StepCount,
        LearningRates = Groups.Select(g => g.LearningRate).ToArray(),
        BaseLearningRates = Groups.Select(g => g.BaseLearningRate).ToArray(),
        WeightDecays = Groups.Select(g => g.WeightDecay).ToArray(),
        Slots = _state.Select(kv => new OptimizerSlot(kv.Key.Item1.Name, kv.Key.Item2, (float[])kv.Value.Clone())).ToList(),
    };

    /// <summary>
    /// Replaces this optimizer's state with <paramref name="state"/> (exported by an optimizer of the same type and
    /// hyperparameters over parameter groups of the same shape), so the next <see cref="Step"/> continues exactly where
    /// the exporting optimizer stopped. Buffers are matched to parameters by name.
    /// </summary>
    public void ImportState(OptimizerState state)
    {
        if (state.Type != GetType().Name)
            throw new ArgumentException($"The optimizer state is for {state.Type}; this optimizer is {GetType().Name}.");
        if (state.LearningRates.Length != Groups.Length || state.BaseLearningRates.Length != Groups.Length || state.WeightDecays.Length != Groups.Length)
            throw new ArgumentException($"The optimizer state has {state.LearningRates.Length} parameter groups; this optimizer has {Groups.Length}.");
        var byName = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var p in Groups.SelectMany(g => g.Parameters)) byName.TryAdd(p.Name, p);
        var buffers = new Dictionary<(Parameter, string), float[]>();
        foreach (var s in state.Slots)
        {
            if (!byName.TryGetValue(s.Parameter, out var p))
                throw new ArgumentException($"The optimizer state has a '{s.Slot}' buffer for parameter '{s.Parameter}', which no group of this optimizer holds.");
            if (s.Values.Length != p.Value.Length)
                throw new ArgumentException($"The optimizer state's '{s.Slot}' buffer for '{s.Parameter}' has {s.Values.Length} values; the parameter has {p.Value.Length}.");
            if (!buffers.TryAdd((p, s.Slot), (float[])s.Values.Clone()))
                throw new ArgumentException($"The optimizer state has two '{s.Slot}' buffers for parameter '{s.Parameter}'.");
        }
        StepCount = state.StepCount;
        for (int i = 0; i < Groups.Length; i++)
        {
            Groups[i].LearningRate = state.LearningRates[i];
            Groups[i].BaseLearningRate = state.BaseLearningRates[i];
            Groups[i].WeightDecay = state.WeightDecays[i];
        }
        _state.Clear();
        foreach (var (key, values) in buffers) _state[key] = values;
    }
}
