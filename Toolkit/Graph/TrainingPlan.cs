using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Forward and backward of a graph for one set of input shapes. Backward runs only through nodes that lie between a
/// trainable parameter and the outputs; only the activations those nodes read are kept from the forward pass, so a
/// frozen prefix runs like inference (its buffers are reused). Parameter gradients accumulate into
/// <see cref="Parameter.Grad"/>.
/// </summary>
public sealed class TrainingPlan
{
    readonly ComputeGraph _graph;
    readonly ExecutionPlan _forward;
    readonly bool[] _needsGrad;
    readonly Node[] _backwardNodes;
    readonly Tensor?[] _grads;
    Func<Node, bool>? _training;
    long _step;

    /// <summary>Nodes that run backward, in forward order.</summary>
    public IReadOnlyList<Node> BackwardNodes => _backwardNodes;

    /// <summary>Floats held by forward buffers (kept activations included).</summary>
    public long ForwardFloats => _forward.BufferFloats;

    /// <summary>Floats held by forward activation buffers (kept ones included), without the shared workspace.</summary>
    public long ActivationFloats => _forward.ActivationFloats;

    /// <summary>Floats held by activation-gradient buffers.</summary>
    public long GradientFloats { get; }

    public TrainingPlan(ComputeGraph graph, int[][] inputShapes)
    {
        _graph = graph;
        int n = graph.Values.Count;
        _needsGrad = new bool[n];
        foreach (var v in graph.Values)
            if (v.Kind == ValueKind.Parameter && v.Parameter!.Trainable) _needsGrad[v.Id] = true;
        foreach (var node in graph.Nodes)
            if (node.Inputs.Any(i => _needsGrad[i.Id]))
                foreach (var o in node.Outputs) _needsGrad[o.Id] = true;
        _backwardNodes = graph.Nodes.Where(node => node.Outputs.Any(o => _needsGrad[o.Id])).ToArray();
        foreach (var node in _backwardNodes)
            if (!node.Op.HasBackward)
                throw new NotSupportedException($"Node '{node.Name}' ({node.Op.Type}) lies between a trainable parameter and the output but has no backward pass.");

        // Everything a backward node reads (its inputs and outputs) stays alive after the forward pass.
        var keep = new HashSet<int>();
        foreach (var node in _backwardNodes)
        {
            foreach (var v in node.Inputs) if (v.Kind == ValueKind.Activation) keep.Add(v.Id);
            foreach (var v in node.Outputs) keep.Add(v.Id);
        }
        _forward = new ExecutionPlan(graph, inputShapes, keep: keep, backward: _backwardNodes.Select(n => n.Index).ToHashSet());

        _grads = new Tensor?[n];
        long floats = 0;
        foreach (var v in graph.Values)
        {
            if (!_needsGrad[v.Id] || v.Kind != ValueKind.Activation) continue;
            _grads[v.Id] = new Tensor(_forward.Shapes[v.Id]);
            floats += _grads[v.Id]!.Length;
        }
        GradientFloats = floats;
    }

    /// <summary>The shape of every value for this plan.</summary>
    public IReadOnlyList<int[]> Shapes => _forward.Shapes;

    /// <summary>
    /// Forward pass. <paramref name="training"/> decides per node whether it runs in training mode (batch-norm batch
    /// statistics, dropout masks); <paramref name="step"/> keys seeded randomness.
    /// </summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> inputs, Func<Node, bool>? training = null, long step = 0, Action<Node, Tensor[]>? afterNode = null)
    {
        _training = training;
        _step = step;
        return _forward.Run(inputs, training, step, afterNode);
    }

    /// <summary>
    /// Backward pass from the gradients of the graph outputs (same order as <see cref="ComputeGraph.Outputs"/>; null for
    /// an output that does not reach the loss). Adds into every trainable parameter's <see cref="Parameter.Grad"/>.
    /// </summary>
    public void Backward(IReadOnlyList<Tensor?> outputGrads, Action<Node>? afterNode = null)
    {
        foreach (var g in _grads) g?.Span.Clear();
        for (int o = 0; o < _graph.Outputs.Count; o++)
        {
            var v = _graph.Outputs[o];
            if (outputGrads[o] is { } g && _grads[v.Id] is { } dst)
                System.Numerics.Tensors.TensorPrimitives.Add(dst.Span, g.Span, dst.Span);
        }
        foreach (var v in _graph.Values)
            if (v.Kind == ValueKind.Parameter && v.Parameter!.Trainable)
                v.Parameter.Grad ??= new Tensor(v.Parameter.Value.ShapeArray);

        for (int i = _backwardNodes.Length - 1; i >= 0; i--)
        {
            var node = _backwardNodes[i];
            var ctx = _forward.ContextOf(node);
            ctx.OutputGrads = node.Outputs.Select(o => _grads[o.Id]!).ToArray();
            ctx.InputGrads = node.Inputs.Select(v => !_needsGrad[v.Id] ? null
                : v.Kind == ValueKind.Parameter ? v.Parameter!.Grad : _grads[v.Id]).ToArray();
            ctx.Training = _training?.Invoke(node) ?? false;
            ctx.Step = _step;
            node.Op.Backward(ctx);
            afterNode?.Invoke(node);
        }
    }

    /// <summary>Sets every trainable parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _graph.Parameters) p.Grad?.Span.Clear();
    }
}
