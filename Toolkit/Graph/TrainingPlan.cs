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

    /// <param name="inferenceMode">
    /// Nodes that run in inference mode at every step (batch norm on running statistics, no dropout). Those of them
    /// that need no backward pass — the frozen part — run as <see cref="PlanOptimizer"/> rewrites them (batch norm
    /// folded into the convolution, activations in its epilogue), as an inference plan would; their weights must stay
    /// fixed while this plan is used. Null: every node runs as it is.
    /// </param>
    public TrainingPlan(ComputeGraph graph, int[][] inputShapes, Func<Node, bool>? inferenceMode = null)
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

        // What a backward node reads (the inputs and outputs its op says it reads) stays alive after the forward pass;
        // the rest (a Relu's input, a Conv's or BatchNormalization's output) gives its buffer back for reuse.
        var keep = new HashSet<int>();
        foreach (var node in _backwardNodes)
        {
            for (int i = 0; i < node.Inputs.Length; i++)
                if (node.Inputs[i].Kind == ValueKind.Activation && node.Op.BackwardReadsInput(i)) keep.Add(node.Inputs[i].Id);
            for (int o = 0; o < node.Outputs.Length; o++)
                if (node.Op.BackwardReadsOutput(o)) keep.Add(node.Outputs[o].Id);
        }
        if (inferenceMode == null)
        {
            _forward = new ExecutionPlan(graph, inputShapes, keep: keep, backward: _backwardNodes.Select(n => n.Index).ToHashSet());
            _shapes = _forward.Shapes;
        }
        else
        {
            var backwardSet = _backwardNodes.ToHashSet();
            var optimized = PlanOptimizer.Optimize(graph, inputShapes, node => !backwardSet.Contains(node) && inferenceMode(node), out var values, out var nodes);
            _values = values; _nodes = nodes;
            _original = nodes.ToDictionary(p => p.Value, p => p.Key);
            foreach (var fusedNode in optimized.Nodes)
                if (fusedNode.Op is Ops.FusedConvOp f) _original[fusedNode] = graph.Nodes.First(o => o.Name == f.FusedNodes[0]);
            _forward = new ExecutionPlan(optimized, inputShapes, keep: keep.Select(id => values[graph.Values[id]].Id).ToHashSet(),
                backward: _backwardNodes.Select(n => nodes[n].Index).ToHashSet());
            _shapes = PlanOptimizer.InferShapes(graph, inputShapes);
        }

        // Activation gradients share buffers by liveness over the backward order (step t runs
        // _backwardNodes[L − 1 − t]): a gradient is born (and zeroed) at the first step that adds into it — its
        // last consumer, or its producer when nothing downstream reads it, or before the loop for a graph output —
        // and dies after its producer's step. Births are served before the step's deaths are released, so an op never
        // reads and writes one buffer.
        int steps = _backwardNodes.Length;
        var birth = new int[n]; var death = new int[n];
        Array.Fill(birth, int.MaxValue); Array.Fill(death, -2);
        for (int t = 0; t < steps; t++)
        {
            var node = _backwardNodes[steps - 1 - t];
            foreach (var v in node.Inputs)
                if (_needsGrad[v.Id] && v.Kind == ValueKind.Activation) birth[v.Id] = Math.Min(birth[v.Id], t);
            foreach (var o in node.Outputs)
                if (_needsGrad[o.Id]) { death[o.Id] = t; birth[o.Id] = Math.Min(birth[o.Id], t); }
        }
        foreach (var v in graph.Outputs) if (_needsGrad[v.Id]) birth[v.Id] = -1;
        // A gradient born at the step of a node that reads it once and sets its input gradient whole
        // (Op.OverwritesInputGrad) is not zeroed: that node sets it.
        _freshInputs = new bool[steps][];
        _setByNode = new HashSet<int>();
        for (int t = 0; t < steps; t++)
        {
            var node = _backwardNodes[steps - 1 - t];
            var fresh = new bool[node.Inputs.Length];
            for (int i = 0; i < fresh.Length; i++)
            {
                var v = node.Inputs[i];
                fresh[i] = _needsGrad[v.Id] && v.Kind == ValueKind.Activation && birth[v.Id] == t
                           && node.Inputs.Count(u => u.Id == v.Id) == 1 && node.Op.OverwritesInputGrad(i);
                if (fresh[i]) _setByNode.Add(v.Id);
            }
            _freshInputs[t] = fresh;
        }
        _bornAt = Enumerable.Range(0, steps + 1).Select(_ => new List<int>()).ToArray();
        var diesAt = Enumerable.Range(0, steps + 1).Select(_ => new List<int>()).ToArray();
        foreach (var v in graph.Values)
        {
            if (!_needsGrad[v.Id] || v.Kind != ValueKind.Activation || birth[v.Id] == int.MaxValue) continue;
            _bornAt[birth[v.Id] + 1].Add(v.Id);
            if (death[v.Id] >= 0) diesAt[death[v.Id] + 1].Add(v.Id);
        }
        _grads = new Tensor?[n];
        var free = new List<float[]>();
        long floats = 0;
        for (int slot = 0; slot <= steps; slot++)
        {
            foreach (var id in _bornAt[slot])
            {
                long need = Math.Max(1, Tensors.Shapes.ElementCount(_shapes[id]));
                int best = -1;
                for (int f = 0; f < free.Count; f++)
                    if (free[f].Length >= need && (best < 0 || free[f].Length < free[best].Length)) best = f;
                float[] buf;
                if (best >= 0) { buf = free[best]; free.RemoveAt(best); }
                else { buf = new float[need]; floats += need; }
                _grads[id] = new Tensor(_shapes[id], buf);
            }
            foreach (var id in diesAt[slot]) free.Add(_grads[id]!.Data);
        }
        GradientFloats = floats;
    }

    /// <summary>Gradients (by value id) first written at each backward step, slot 0 being before the loop.</summary>
    readonly List<int>[] _bornAt;

    /// <summary>Per backward step, which of the node's inputs have gradients it sets rather than adds to (see <see cref="Ops.OpContext.InputGradFresh"/>).</summary>
    readonly bool[][] _freshInputs;

    /// <summary>Gradients (by value id) set whole by the node at their birth, so never zeroed.</summary>
    readonly HashSet<int> _setByNode;

    /// <summary>The shape of every value for this plan.</summary>
    public IReadOnlyList<int[]> Shapes => _shapes;

    readonly IReadOnlyList<int[]> _shapes;

    /// <summary>With a rewritten frozen part: the rewritten graph's value and node for each original one, and back.</summary>
    readonly IReadOnlyDictionary<Value, Value>? _values;
    readonly IReadOnlyDictionary<Node, Node>? _nodes;
    readonly Dictionary<Node, Node>? _original;

    /// <summary>
    /// Forward pass. <paramref name="training"/> decides per node whether it runs in training mode (batch-norm batch
    /// statistics, dropout masks); <paramref name="step"/> keys seeded randomness.
    /// </summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> inputs, Func<Node, bool>? training = null, long step = 0, Action<Node, Tensor[]>? afterNode = null)
    {
        _training = training;
        _step = step;
        if (_original == null) return _forward.Run(inputs, training, step, afterNode);
        // Callers see the original nodes (a fused node as the convolution it starts with).
        var map = _original;
        return _forward.Run(inputs, training == null ? null : n => training(map[n]), step,
            afterNode == null ? null : (n, t) => afterNode(map[n], t));
    }

    /// <summary>
    /// Backward pass from the gradients of the graph outputs (same order as <see cref="ComputeGraph.Outputs"/>; null for
    /// an output that does not reach the loss). Adds into every trainable parameter's <see cref="Parameter.Grad"/>.
    /// </summary>
    public void Backward(IReadOnlyList<Tensor?> outputGrads, Action<Node>? afterNode = null)
    {
        foreach (var id in _bornAt[0]) Clear(_grads[id]!);
        for (int o = 0; o < _graph.Outputs.Count; o++)
        {
            var v = _graph.Outputs[o];
            if (outputGrads[o] is { } g && _grads[v.Id] is { } dst)
                System.Numerics.Tensors.TensorPrimitives.Add(dst.Span, g.Span, dst.Span);
        }
        foreach (var v in _graph.Values)
            if (v.Kind == ValueKind.Parameter && v.Parameter!.Trainable)
                v.Parameter.Grad ??= new Tensor(v.Parameter.Value.ShapeArray);

        for (int t = 0; t < _backwardNodes.Length; t++)
        {
            var node = _backwardNodes[_backwardNodes.Length - 1 - t];
            foreach (var id in _bornAt[t + 1]) if (!_setByNode.Contains(id)) Clear(_grads[id]!);
            var ctx = _forward.ContextOf(_nodes == null ? node : _nodes[node]);
            ctx.InputGradFresh = _freshInputs[t];
            ctx.OutputGrads = node.Outputs.Select(o => _grads[o.Id]!).ToArray();
            ctx.InputGrads = node.Inputs.Select(v => !_needsGrad[v.Id] ? null
                : v.Kind == ValueKind.Parameter ? v.Parameter!.Grad : _grads[v.Id]).ToArray();
            ctx.Training = _training?.Invoke(node) ?? false;
            ctx.Step = _step;
            node.Op.Backward(ctx);
            afterNode?.Invoke(node);
        }
    }

    /// <summary>
    /// The gradient buffer of an activation (null where none is computed). Inside <see cref="Backward"/>'s afterNode
    /// callback it holds the finished gradient of that node's outputs; afterwards the buffer may have been reused.
    /// </summary>
    public Tensor? GradientOf(Value v) => _grads[v.Id];

    /// <summary>Zeroes a gradient buffer just before its first use (split across threads when large).</summary>
    static void Clear(Tensor t)
    {
        var data = t.Data;
        int length = t.Length;
        Threading.Workers.For(length, 1, (s, e) => Array.Clear(data, s, e - s));
    }

    /// <summary>Sets every trainable parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _graph.Parameters) p.Grad?.Span.Clear();
    }
}
