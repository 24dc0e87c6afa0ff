using TransferKit.Toolkit.Threading;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Forward and backward of a graph for one set of input shapes. Backward runs only through nodes that lie between a
/// trainable parameter and the outputs; only the activations those nodes read are kept from the forward pass, so a
/// frozen prefix runs like inference (its buffers are reused). Activation gradients live in the forward buffers that
/// hold nothing backward reads, and in buffers of their own only beyond those. Parameter gradients accumulate into
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

    /// <summary>Floats of the buffers only gradients and replayed values use (beyond those the forward pass uses too).</summary>
    public long GradientFloats { get; }

    /// <param name="inferenceMode">
    /// Nodes that run in inference mode at every step (batch norm on running statistics, no dropout). Those of them
    /// that need no backward pass — the frozen part — run as <see cref="PlanOptimizer"/> rewrites them (batch norm
    /// folded into the convolution, activations in its epilogue), as an inference plan would; their weights must stay
    /// fixed while this plan is used. Null: every node runs as it is.
    /// </param>
    public TrainingPlan(ComputeGraph graph, int[][] inputShapes, Func<Node, bool>? inferenceMode = null)
        : this(graph, inputShapes, inferenceMode, replay: true, fuse: true) { }

    /// <param name="replay">Whether values backward reads may be computed again instead of kept (tests compare the two).</param>
    /// <param name="fuse">Whether a batch norm runs the Relu or Clip after it in its own forward pass (tests compare the two).</param>
    internal TrainingPlan(ComputeGraph graph, int[][] inputShapes, Func<Node, bool>? inferenceMode, bool replay, bool fuse)
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

        // What a backward node reads (the inputs and outputs its op says it reads) stays alive after the forward pass,
        // until the backward step of its last reader there; the rest (a Conv's or BatchNormalization's output) gives its
        // buffer back for reuse. Backward step t runs _backwardNodes[L − 1 − t].
        int steps = _backwardNodes.Length;
        var keep = new HashSet<int>();
        var lastRead = new Dictionary<int, int>();
        for (int t = 0; t < steps; t++)
        {
            var node = _backwardNodes[steps - 1 - t];
            for (int i = 0; i < node.Inputs.Length; i++)
                if (node.Inputs[i].Kind == ValueKind.Activation && node.Op.BackwardReadsInput(i)) { keep.Add(node.Inputs[i].Id); lastRead[node.Inputs[i].Id] = t; }
            for (int o = 0; o < node.Outputs.Length; o++)
                if (node.Op.BackwardReadsOutput(o)) { keep.Add(node.Outputs[o].Id); lastRead[node.Outputs[o].Id] = t; }
        }
        var backwardSet = _backwardNodes.ToHashSet();

        // Values backward reads that a backward node can compute again cheaply (Op.CanReplay) from values kept anyway —
        // a Relu's or batch norm's output from the kept convolution output — are not kept: the node replays just before
        // the first backward step that reads them, and they live from there to their last reader. The replay starts
        // from kept values, through values nothing in backward reads (a batch norm's output on the way to its Relu):
        // never from another replayed value, since a replay that needs one must bring it back at once, early in backward
        // where memory peaks, and a chain of them (a residual stream) would all be alive there again.
        var replayable = new bool[n];
        var viewed = graph.Nodes.Where(x => x.Op.IsView).Select(x => x.Inputs[0].Id).ToHashSet();
        var outputIds = graph.Outputs.Select(v => v.Id).ToHashSet();
        foreach (var node in graph.Nodes)
        {
            if (!replay || !backwardSet.Contains(node) || !node.Op.CanReplay || node.Outputs.Length != 1) continue;
            var o = node.Outputs[0];
            if (viewed.Contains(o.Id) || outputIds.Contains(o.Id)) continue;
            replayable[o.Id] = node.Inputs.All(v => v.Kind != ValueKind.Activation || (keep.Contains(v.Id) ? !replayable[v.Id] : replayable[v.Id]));
        }
        _replays = Enumerable.Range(0, steps).Select(_ => new List<Node>()).ToArray();
        var replayedAt = new Dictionary<int, int>();
        var replayedUntil = new Dictionary<int, int>();
        void Need(Value v, int t)
        {
            replayedUntil[v.Id] = Math.Max(replayedUntil.GetValueOrDefault(v.Id, t), t);
            if (replayedAt.ContainsKey(v.Id)) return;
            var producer = v.Producer!;
            foreach (var u in producer.Inputs) if (u.Kind == ValueKind.Activation && replayable[u.Id]) Need(u, t);
            replayedAt[v.Id] = t;
            _replays[t].Add(producer);
        }
        var readInBackward = new HashSet<int>(keep);
        for (int t = 0; t < steps; t++)
        {
            var node = _backwardNodes[steps - 1 - t];
            for (int i = 0; i < node.Inputs.Length; i++)
                if (node.Inputs[i].Kind == ValueKind.Activation && replayable[node.Inputs[i].Id] && node.Op.BackwardReadsInput(i)) Need(node.Inputs[i], t);
            for (int o = 0; o < node.Outputs.Length; o++)
                if (replayable[node.Outputs[o].Id] && node.Op.BackwardReadsOutput(o)) Need(node.Outputs[o], t);
        }
        foreach (var id in replayedAt.Keys) { keep.Remove(id); lastRead.Remove(id); }
        // A value replayed only to replay one elementwise node, at the same step, is written over by it (Op.ReplaysInPlace).
        var replayReaders = new Dictionary<int, int>();
        foreach (var node in _replays.SelectMany(r => r))
            foreach (var u in node.Inputs.Distinct()) if (replayedAt.ContainsKey(u.Id)) replayReaders[u.Id] = replayReaders.GetValueOrDefault(u.Id) + 1;
        var replayOver = new Dictionary<int, int>();
        foreach (var node in _replays.SelectMany(r => r))
        {
            if (!node.Op.ReplaysInPlace || node.Inputs.Length != 1) continue;
            var (w, u) = (node.Inputs[0].Id, node.Outputs[0].Id);
            if (replayedAt.ContainsKey(w) && !readInBackward.Contains(w) && replayReaders[w] == 1
                && replayedAt[w] == replayedAt[u] && replayedUntil[w] == replayedAt[u]) replayOver[u] = w;
        }

        ComputeGraph forwardGraph = graph;
        if (inferenceMode != null)
        {
            forwardGraph = PlanOptimizer.Optimize(graph, inputShapes, node => !backwardSet.Contains(node) && inferenceMode(node), out var values, out var nodes);
            _values = values; _nodes = nodes;
            _original = nodes.ToDictionary(p => p.Value, p => p.Key);
            foreach (var fusedNode in forwardGraph.Nodes)
                if (fusedNode.Op is Ops.FusedConvOp f) _original[fusedNode] = graph.Nodes.First(o => o.Name == f.FusedNodes[0]);
                else if (fusedNode.Op is Ops.FusedConcatOp c) _original[fusedNode] = graph.Nodes.First(o => o.Name == c.FusedNodes[0]);
        }
        // The original graph's shapes: the rewritten plan's differ in the fused part; the plain plan's are its own.
        IReadOnlyList<int[]>? shapes = inferenceMode != null ? PlanOptimizer.InferShapes(graph, inputShapes) : null;
        int ForwardId(int id) => _values == null ? id : _values[graph.Values[id]].Id;

        // Activation gradients by liveness over the backward order: a gradient is born (and zeroed) at the first step
        // that adds into it — its last consumer, or its producer when nothing downstream reads it, or before the loop for
        // a graph output — and dies after its producer's step.
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
        var shareWith = new Dictionary<int, int>();
        _bornAt = Enumerable.Range(0, steps + 1).Select(_ => new List<int>()).ToArray();
        var gradientIds = new List<int>();
        foreach (var v in graph.Values)
        {
            if (!_needsGrad[v.Id] || v.Kind != ValueKind.Activation || birth[v.Id] == int.MaxValue) continue;
            _bornAt[birth[v.Id] + 1].Add(v.Id);
            gradientIds.Add(v.Id);
        }

        // One arena for the step. Forward node k runs at time k; the slot before the backward loop at time F, backward
        // step t at F + 1 + t. Kept values live to their last backward reader, gradients from birth to their producer's
        // step (a gradient that is never released — a graph input's — to the end). Buffers go by BufferArena over that
        // timeline, so a gradient uses a buffer the forward pass is done with; an op never reads and writes one buffer,
        // because values of one step are all alive at it.
        _grads = new Tensor?[n];
        var gradientBuffers = new Dictionary<int, float[]>();
        var replayBuffers = new Dictionary<int, float[]>();
        long gradientOnly = 0;
        Dictionary<int, float[]> Assign(IReadOnlyList<BufferArena.Lifetime> forward, int[] root, IReadOnlyList<int[]> forwardShapes)
        {
            shapes ??= forwardShapes;
            // A gradient the node sets that may be written over its output's gradient (Op.BackwardInPlace), which dies at
            // this very step, takes that gradient's buffer: a chain of elementwise ops and batch norms uses one.
            for (int t = 0; t < steps; t++)
            {
                var node = _backwardNodes[steps - 1 - t];
                if (node.Outputs.Length != 1 || !_needsGrad[node.Outputs[0].Id]) continue;
                var o = node.Outputs[0];
                for (int i = 0; i < node.Inputs.Length; i++)
                {
                    var v = node.Inputs[i];
                    if (!_freshInputs[t][i] || !node.Op.BackwardInPlace(i) || death[o.Id] != t || shareWith.ContainsValue(o.Id)) continue;
                    if (Tensors.Shapes.ElementCount(shapes[v.Id]) != Tensors.Shapes.ElementCount(shapes[o.Id])) continue;
                    shareWith[v.Id] = o.Id;
                    break;
                }
            }
            int f = forwardGraph.Nodes.Count, end = f + 1 + steps;
            var keptUntil = new Dictionary<int, int>();
            var outputs = forwardGraph.Outputs.Select(v => root[v.Id]).ToHashSet();
            foreach (var (id, t) in lastRead)
            {
                int r = root[ForwardId(id)];
                keptUntil[r] = Math.Max(keptUntil.GetValueOrDefault(r, 0), f + 1 + t);
            }
            var all = new List<BufferArena.Lifetime>();
            foreach (var l in forward)
                all.Add(l.Death != int.MaxValue ? l : l with { Death = outputs.Contains(l.Key) ? end : keptUntil.GetValueOrDefault(l.Key, end) });
            // A chain of shared gradients is one lifetime under the key of its first (output-most) gradient, and a value
            // replayed over another one under the key of the first it was replayed over.
            int Head(int id) { while (shareWith.TryGetValue(id, out var o)) id = o; return id; }
            int Under(int id) { while (replayOver.TryGetValue(id, out var w)) id = w; return id; }
            all.AddRange(BufferArena.Merge(gradientIds.Select(id => new BufferArena.Lifetime(-1 - Head(id), Tensors.Shapes.ElementCount(shapes[id]),
                f + 1 + birth[id], death[id] >= 0 ? f + 1 + death[id] : end))));
            all.AddRange(BufferArena.Merge(replayedAt.Select(r => new BufferArena.Lifetime(-1 - n - Under(r.Key), Tensors.Shapes.ElementCount(shapes[r.Key]),
                f + 1 + r.Value, f + 1 + replayedUntil[r.Key]))));
            var buffers = BufferArena.Assign(all, out _);
            var forwardArrays = forward.Select(l => buffers[l.Key]).ToHashSet();
            foreach (var id in gradientIds) gradientBuffers[id] = buffers[-1 - Head(id)];
            foreach (var id in replayedAt.Keys) replayBuffers[id] = buffers[-1 - n - Under(id)];
            gradientOnly = gradientBuffers.Values.Concat(replayBuffers.Values).Distinct().Where(b => !forwardArrays.Contains(b)).Sum(b => (long)b.Length);
            return buffers;
        }
        _forward = new ExecutionPlan(forwardGraph, inputShapes, false,
            keep.Select(ForwardId).ToHashSet(), _backwardNodes.Select(n => _nodes == null ? n.Index : _nodes[n].Index).ToHashSet(), Assign);
        _shapes = shapes!;
        foreach (var id in gradientIds) _grads[id] = new Tensor(_shapes[id], gradientBuffers[id]);
        GradientFloats = gradientOnly;
        _replayed = replayedAt.Keys.Select(id => (id, _forward.TensorOf(forwardGraph.Values[ForwardId(id)])!, replayBuffers[id])).ToArray();

        // A batch norm whose output goes only to a Relu or Clip (both training) writes the activation's output itself,
        // plane group by plane group while it is in cache; the output it would have written nobody reads. A convolution
        // likewise, the bounds applied in its kernel's registers, when the activation's output is not replayed (from the
        // convolution's output, which is then never written).
        if (fuse)
        {
            var readers = new Dictionary<int, int>();
            foreach (var node in graph.Nodes) foreach (var v in node.Inputs.Distinct()) readers[v.Id] = readers.GetValueOrDefault(v.Id) + 1;
            foreach (var act in _backwardNodes)
            {
                if (act.Op is not Ops.MaskedUnaryOp masked || act.Inputs.Length != 1) continue;
                var y = act.Inputs[0];
                if (y.Producer is not { } producer || !backwardSet.Contains(producer) || readers[y.Id] != 1
                    || outputIds.Contains(y.Id) || viewed.Contains(y.Id) || keep.Contains(y.Id)) continue;
                bool fuses = producer.Op switch
                {
                    Ops.BatchNormalizationOp => true,
                    // The activation's output is written a step early, at the convolution's: its buffer must not be one
                    // a convolution input gives back at that step, so every input the plan computes is kept.
                    Ops.ConvOp => masked.ClampBounds != null && !replayedAt.ContainsKey(act.Outputs[0].Id)
                                  && producer.Inputs.All(v => v.Kind != ValueKind.Activation || keep.Contains(v.Id)),
                    _ => false,
                };
                if (fuses) _forward.Fuse(_nodes == null ? producer : _nodes[producer], _nodes == null ? act : _nodes[act]);
            }
        }
        foreach (var (_, tensor, _) in _replayed) _forwardData[tensor] = tensor.Data;
    }

    /// <summary>Per backward step, the nodes replayed just before it (inputs before the nodes that read them).</summary>
    readonly List<Node>[] _replays;

    /// <summary>Each replayed value: its id, the forward plan's tensor of it, and the buffer it is replayed into.</summary>
    readonly (int Id, Tensor Tensor, float[] Buffer)[] _replayed;

    /// <summary>The forward buffer of each replayed value's tensor, bound again after backward.</summary>
    readonly Dictionary<Tensor, float[]> _forwardData = new(ReferenceEqualityComparer.Instance);

    /// <summary>How many Relu or Clip nodes run inside their batch norm's forward pass.</summary>
    internal int FusedActivations => _forward.FusedActivations;

    /// <summary>Values (by id) that backward computes again instead of keeping them from the forward pass.</summary>
    public IReadOnlyCollection<int> ReplayedValues => _replayed.Select(r => r.Id).ToArray();

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
    public Tensor[] Forward(IReadOnlyList<Tensor> inputs, Func<Node, bool>? training = null, long step = 0, Action<Node, Tensor[]>? afterNode = null) =>
        Workers.Pinned(() => RunForward(inputs, training, step, afterNode));

    Tensor[] RunForward(IReadOnlyList<Tensor> inputs, Func<Node, bool>? training, long step, Action<Node, Tensor[]>? afterNode)
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
    /// <paramref name="beforeNode"/> runs just before each node's step, when the gradients of its outputs are complete
    /// (<see cref="GradientOf"/>); <paramref name="afterNode"/> just after it.
    /// </summary>
    public void Backward(IReadOnlyList<Tensor?> outputGrads, Action<Node>? afterNode = null, Action<Node>? beforeNode = null) =>
        Workers.Pinned(() => BackwardPass(outputGrads, afterNode, beforeNode));

    void BackwardPass(IReadOnlyList<Tensor?> outputGrads, Action<Node>? afterNode, Action<Node>? beforeNode)
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

        foreach (var (id, tensor, buffer) in _replayed) tensor.Rebind(_shapes[id], buffer);
        try { RunBackward(afterNode, beforeNode); }
        finally
        {
            foreach (var (id, tensor, _) in _replayed) tensor.Rebind(_shapes[id], _forwardData[tensor]);
        }
    }

    void RunBackward(Action<Node>? afterNode, Action<Node>? beforeNode)
    {
        for (int t = 0; t < _backwardNodes.Length; t++)
        {
            var node = _backwardNodes[_backwardNodes.Length - 1 - t];
            foreach (var replayed in _replays[t])
            {
                var forwardNode = _nodes == null ? replayed : _nodes[replayed];
                // A fused activation was replayed by its batch norm, as it ran.
                if (_forward.RanFused(forwardNode)) continue;
                replayed.Op.Replay(_forward.ContextOf(forwardNode));
            }
            beforeNode?.Invoke(node);
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
    /// The gradient buffer of an activation (null where none is computed). Inside <see cref="Backward"/>'s beforeNode
    /// callback it holds the finished gradient of that node's outputs; after the node's step it may hold an input's
    /// gradient written over it (<see cref="Ops.Op.BackwardInPlace"/>), and after the pass anything.
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
