using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Runs a <see cref="ComputeGraph"/> for one set of input shapes. Shapes are inferred once, buffers are
/// assigned once (<see cref="BufferArena"/>: values whose lifetimes do not overlap share a buffer) and reused by every
/// run; view ops (reshapes) share their input's buffer.
/// </summary>
public sealed class ExecutionPlan
{
    readonly ComputeGraph _graph;
    readonly int[][] _shapes;
    readonly Tensor?[] _tensors;
    readonly OpContext[] _contexts;
    readonly float[] _workspace;

    /// <summary>The graph this plan runs.</summary>
    public ComputeGraph Graph => _graph;

    /// <summary>Shape of every value, indexed by <see cref="Value.Id"/>.</summary>
    public IReadOnlyList<int[]> Shapes => _shapes;

    /// <summary>Floats held by activation buffers and the shared workspace.</summary>
    public long BufferFloats { get; }

    /// <summary>Floats held by activation buffers alone.</summary>
    public long ActivationFloats => BufferFloats - _workspace.Length;

    /// <param name="keepAll">Give every activation its own buffer (values stay readable after the run).</param>
    /// <param name="keep">Values (by id) whose buffers must survive the run, e.g. activations backward reads.</param>
    /// <param name="backward">Nodes (by index) whose backward pass will run: the workspace is sized for it too.</param>
    public ExecutionPlan(ComputeGraph graph, int[][] inputShapes, bool keepAll = false, ISet<int>? keep = null, ISet<int>? backward = null)
        : this(graph, inputShapes, keepAll, keep, backward, null) { }

    /// <param name="assign">
    /// Instead of assigning buffers itself: given each storage-owning value's lifetime over the node steps (kept values to
    /// <see cref="int.MaxValue"/>), the view roots and the shapes, returns a buffer per value (a training plan extends the timeline
    /// over its backward steps and shares the buffers with gradients).
    /// </param>
    internal ExecutionPlan(ComputeGraph graph, int[][] inputShapes, bool keepAll, ISet<int>? keep, ISet<int>? backward,
        Func<IReadOnlyList<BufferArena.Lifetime>, int[], IReadOnlyList<int[]>, Dictionary<int, float[]>>? assign)
    {
        _graph = graph;
        if (inputShapes.Length != graph.Inputs.Count)
            throw new ArgumentException($"The graph has {graph.Inputs.Count} inputs; {inputShapes.Length} shapes were given.");
        _shapes = new int[graph.Values.Count][];
        for (int i = 0; i < inputShapes.Length; i++)
        {
            var input = graph.Inputs[i];
            CheckInputShape(input, inputShapes[i]);
            _shapes[input.Id] = (int[])inputShapes[i].Clone();
        }
        foreach (var v in graph.Values)
            if (v.Kind == ValueKind.Parameter) _shapes[v.Id] = v.Parameter!.Value.ShapeArray;

        long workspace = 0;
        foreach (var node in graph.Nodes)
        {
            var ins = node.Inputs.Select(v => _shapes[v.Id]).ToArray();
            int[][] outs;
            try
            {
                outs = node.Op.InferShapes(ins);
                foreach (var o in outs) Tensors.Shapes.ElementCount(o);
            }
            catch (ShapeException e)
            {
                throw new ShapeException($"Node '{node.Name}' ({node.Op.Type}) with input shapes " +
                    $"{string.Join(" ", ins.Select(s => Tensors.Shapes.Format(s)))}: {e.Message}");
            }
            for (int o = 0; o < node.Outputs.Length; o++) _shapes[node.Outputs[o].Id] = outs[o];
            workspace = Math.Max(workspace, node.Op.WorkspaceLength(ins));
            if (backward != null && backward.Contains(node.Index)) workspace = Math.Max(workspace, node.Op.BackwardWorkspaceLength(ins));
        }
        _workspace = new float[workspace];

        // Buffer assignment by liveness. A view output shares its input's storage ("root"), so the root stays
        // alive until the last reader of any of its views.
        int n = graph.Values.Count;
        var root = new int[n];
        for (int i = 0; i < n; i++) root[i] = i;
        foreach (var node in graph.Nodes)
            if (node.Op.IsView) root[node.Outputs[0].Id] = root[node.Inputs[0].Id];
        var lastUse = new int[n];
        Array.Fill(lastUse, -1);
        foreach (var node in graph.Nodes)
            foreach (var v in node.Inputs) lastUse[root[v.Id]] = Math.Max(lastUse[root[v.Id]], node.Index);
        foreach (var v in graph.Outputs) lastUse[root[v.Id]] = int.MaxValue;
        if (keep != null) foreach (var id in keep) lastUse[root[id]] = int.MaxValue;

        // Every value that owns storage lives from its producer to its last reader (kept values and outputs to the end).
        var lifetimes = new List<BufferArena.Lifetime>();
        foreach (var node in graph.Nodes)
            foreach (var o in node.Outputs)
                if (root[o.Id] == o.Id)
                    lifetimes.Add(new(o.Id, Tensors.Shapes.ElementCount(_shapes[o.Id]), node.Index, Math.Max(lastUse[o.Id], node.Index)));
        long total = workspace;
        Dictionary<int, float[]> buffers;
        if (keepAll) buffers = lifetimes.ToDictionary(l => l.Key, l => new float[Math.Max(l.Floats, 1)]);
        else if (assign != null) buffers = assign(lifetimes, root, _shapes);
        else buffers = BufferArena.Assign(lifetimes, out _);
        _tensors = new Tensor?[n];
        foreach (var l in lifetimes) _tensors[l.Key] = new Tensor(_shapes[l.Key], buffers[l.Key]);
        total += lifetimes.Select(l => buffers[l.Key]).Distinct().Sum(b => (long)b.Length);
        BufferFloats = total;
        _viewRoot = root;

        _contexts = graph.Nodes.Select(node => new OpContext { RecordsForBackward = backward?.Contains(node.Index) ?? false }).ToArray();
    }

    readonly int[] _viewRoot;

    void CheckInputShape(Value input, int[] shape)
    {
        var declared = input.DeclaredShape;
        if (declared == null) return;
        if (declared.Length != shape.Length)
            throw new ShapeException($"Input '{input.Name}' expects rank {declared.Length} {Tensors.Shapes.Format(declared)}; got {Tensors.Shapes.Format(shape)}.");
        // The leading (batch) dimension may always differ; other fixed dimensions must match.
        for (int d = 1; d < shape.Length; d++)
            if (declared[d] > 0 && declared[d] != shape[d])
                throw new ShapeException($"Input '{input.Name}' expects {Tensors.Shapes.Format(declared)}; got {Tensors.Shapes.Format(shape)}.");
    }

    /// <summary>
    /// Runs the graph. Returns the output tensors, which stay valid until the next run of this plan.
    /// </summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs, Action<Node, Tensor[]>? afterNode = null) => Run(inputs, null, 0, afterNode);

    /// <summary>Runs the graph with a per-node training flag (batch statistics, dropout masks) at a given step.</summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs, Func<Node, bool>? training, long step, Action<Node, Tensor[]>? afterNode = null)
    {
        if (inputs.Count != _graph.Inputs.Count)
            throw new ArgumentException($"Expected {_graph.Inputs.Count} inputs, got {inputs.Count}.");
        for (int i = 0; i < inputs.Count; i++)
        {
            var v = _graph.Inputs[i];
            if (!inputs[i].Shape.SequenceEqual(_shapes[v.Id]))
                throw new ShapeException($"Input '{v.Name}' has shape {Tensors.Shapes.Format(inputs[i].Shape)}; this plan was made for {Tensors.Shapes.Format(_shapes[v.Id])}.");
            _tensors[v.Id] = inputs[i];
        }
        foreach (var v in _graph.Values)
            if (v.Kind == ValueKind.Parameter) _tensors[v.Id] = v.Parameter!.Value;
        LastRunFused = afterNode == null && _fused.Count > 0;
        foreach (var (_, (producer, activation, fusion)) in _fused)
            _contexts[producer.Index].Fusion = LastRunFused && ReferenceEquals(activation.Op, fusion.Op) ? fusion : null;

        foreach (var node in _graph.Nodes)
        {
            var ctx = _contexts[node.Index];
            if (ctx.Inputs.Length != node.Inputs.Length) ctx.Inputs = new Tensor[node.Inputs.Length];
            for (int i = 0; i < node.Inputs.Length; i++) ctx.Inputs[i] = _tensors[node.Inputs[i].Id]!;
            if (node.Op.IsView)
            {
                var o = node.Outputs[0];
                var src = ctx.Inputs[0];
                _tensors[o.Id] ??= new Tensor(_shapes[o.Id], src.Data);
                _tensors[o.Id]!.Rebind(_shapes[o.Id], src.Data);
            }
            if (ctx.Outputs.Length != node.Outputs.Length) ctx.Outputs = new Tensor[node.Outputs.Length];
            for (int i = 0; i < node.Outputs.Length; i++) ctx.Outputs[i] = _tensors[node.Outputs[i].Id]!;
            ctx.Workspace = _workspace;
            ctx.Training = training?.Invoke(node) ?? false;
            ctx.Step = step;
            if (RanFused(node)) continue;
            node.Op.Forward(ctx);
            afterNode?.Invoke(node, ctx.Outputs);
        }
        return _graph.Outputs.Select(v => _tensors[v.Id]!).ToArray();
    }

    /// <summary>Activations (by node index) whose forward pass runs inside their producer's, with the fusion the producer gets.</summary>
    readonly Dictionary<int, (Node Producer, Node Activation, Ops.ActivationFusion Fusion)> _fused = new();

    /// <summary>
    /// Runs the Relu or Clip <paramref name="activation"/> inside the forward pass of <paramref name="producer"/>, its
    /// input's only reader (see <see cref="OpContext.Fusion"/>), in every run without an afterNode callback (one may
    /// change a node's output in place, which the fused activation would not see) while the node still has that op.
    /// </summary>
    internal void Fuse(Node producer, Node activation)
    {
        var op = (Ops.MaskedUnaryOp)activation.Op;
        _fused[activation.Index] = (producer, activation, new Ops.ActivationFusion(op, _tensors[activation.Outputs[0].Id]!, _contexts[activation.Index]));
    }

    /// <summary>How many activations run inside their producers' forward passes.</summary>
    internal int FusedActivations => _fused.Count;

    /// <summary>Whether the last run ran its fused activations inside their producers (replays then do too).</summary>
    internal bool LastRunFused { get; private set; }

    /// <summary>Whether the activation node's forward pass ran inside its producer's in the last run.</summary>
    internal bool RanFused(Node activation) => LastRunFused && _fused.TryGetValue(activation.Index, out var f) && _contexts[f.Producer.Index].Fusion != null;

    /// <summary>The context a node ran with in the last run (its inputs, outputs and saved state).</summary>
    internal OpContext ContextOf(Node node) => _contexts[node.Index];

    /// <summary>Floats of the shared workspace.</summary>
    internal float[] Workspace => _workspace;

    /// <summary>The current tensor of a value (valid for kept values, or inside an afterNode callback).</summary>
    public Tensor? TensorOf(Value v) => _tensors[v.Id];
}
