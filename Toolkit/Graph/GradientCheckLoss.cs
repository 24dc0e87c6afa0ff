using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// The loss both gradient checks differentiate (<see cref="GradientCheck"/> per parameter,
/// <see cref="NodeGradientCheck"/> per node): the training plan's forward on fixed inputs, then the options' loss on the
/// logits against the labels, or mean squared error against <see cref="GradientCheckOptions.MseTargets"/>. It keeps every
/// parameter's value at θ, restores the state training-mode passes move (batch-norm running statistics) before each
/// evaluation once <see cref="FixState"/> has seen which, and counts the forward passes.
/// </summary>
internal sealed class GradientCheckLoss
{
    readonly IReadOnlyList<Tensor> _inputs;
    readonly int[] _labels;
    readonly GradientCheckOptions _o;
    List<Parameter>? _state;

    /// <summary>Checks what both checks need (a positive step, one output, something trainable) and plans the graph.</summary>
    public GradientCheckLoss(ComputeGraph graph, IReadOnlyList<Tensor> inputs, int[] labels, GradientCheckOptions o)
    {
        if (!(o.Epsilon > 0)) throw new ArgumentException("The gradient-check step must be positive.");
        if (graph.Outputs.Count != 1) throw new ArgumentException($"A gradient check needs a graph with one output (the logits); this one has {graph.Outputs.Count}.");
        Trainable = graph.Parameters.Where(p => p.Trainable).ToList();
        if (Trainable.Count == 0) throw new ArgumentException("No parameter is trainable: there is no gradient to check.");
        (_inputs, _labels, _o) = (inputs, labels, o);
        Plan = new TrainingPlan(graph, inputs.Select(t => t.ShapeArray).ToArray());
        All = graph.Parameters.ToList();
        Original = All.ToDictionary(p => p, p => p.Value.Span.ToArray());
    }

    public TrainingPlan Plan { get; }

    /// <summary>Every parameter of the graph, trainable or not.</summary>
    public List<Parameter> All { get; }

    public List<Parameter> Trainable { get; }

    /// <summary>Each parameter's values at θ.</summary>
    public Dictionary<Parameter, float[]> Original { get; }

    /// <summary>Forward passes so far.</summary>
    public int Forwards { get; private set; }

    /// <summary>The loss's sensitivity to its logits at the last evaluation that asked for a gradient (for the round-off floor).</summary>
    public double Sensitivity { get; private set; }

    /// <summary>
    /// The loss at the parameters' current values; with <paramref name="gradient"/>, dL/d(output) written into it;
    /// <paramref name="afterNode"/> sees (and may change) each node's outputs as the forward pass goes.
    /// </summary>
    public double Evaluate(Tensor? gradient = null, Action<Node, Tensor[]>? afterNode = null)
    {
        // Training-mode forward passes move running statistics; every evaluation starts from the same state.
        if (_state != null) foreach (var p in _state) Original[p].CopyTo(p.Value.Span);
        var y = Plan.Forward(_inputs, _o.Training, _o.Step, afterNode)[0];
        Forwards++;
        if (_o.MseTargets is { } targets)
        {
            if (targets.Length != y.Length) throw new ArgumentException($"{targets.Length} mean-squared-error targets for an output of shape {Shapes.Format(y.Shape)}.");
            double mse = GradientCheck.Mse.Compute(y, targets, gradient);
            if (gradient != null) Sensitivity = GradientCheck.LogitSensitivity(y, gradient);
            return mse;
        }
        int n = _labels.Length;
        if (n == 0 || y.Length % n != 0) throw new ArgumentException($"{_labels.Length} labels for an output of shape {Shapes.Format(y.Shape)}.");
        var logits = y.Reshaped(n, y.Length / n);
        double l = _o.Loss.Compute(logits, _labels, gradient?.Reshaped(n, y.Length / n));
        if (gradient != null) Sensitivity = GradientCheck.LogitSensitivity(logits, gradient);
        return l;
    }

    /// <summary>After the analytic pass: the parameters it moved (running statistics) are put back before every later evaluation.</summary>
    public void FixState() => _state = All.Where(p => !p.Value.Span.SequenceEqual(Original[p])).ToList();

    /// <summary>Every parameter back to its value at θ.</summary>
    public void Restore()
    {
        foreach (var p in All) Original[p].CopyTo(p.Value.Span);
    }
}
