using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Inference with the batch cut into chunks of a few images spread across threads: each thread runs its own
/// <see cref="ExecutionPlan"/> for one chunk after another, its kernels on that thread alone, taking the next chunk
/// nobody has taken (on a shared host a thread that loses its core for a while leaves its chunks to the others). Compared with one plan
/// for the whole batch whose every kernel splits its work across the threads, a chunk's activations stay in the last
/// level cache from one layer to the next instead of going out to memory, and no hand-off between threads happens
/// inside a run. <see cref="ChunkFor"/> sizes the chunk from the cache. Only for graphs whose every node computes each
/// image from that image alone (<see cref="Splits(ComputeGraph, int[][])"/>); the results equal the whole-batch plan's
/// within its rounding (kernels may pick other algorithms for fewer images).
/// </summary>
public sealed class SplitBatchPlan
{
    readonly ExecutionPlan[][] _plans;   // per thread: the chunk plan, then (if any) the plan for the last, shorter chunk
    readonly Tensor[][][] _inputs;       // per thread and plan: its own input tensors
    readonly (int First, int Count)[] _chunks;   // the batch's chunks in order
    readonly Tensor[] _outputs;

    /// <summary>The graph this plan runs.</summary>
    public ComputeGraph Graph { get; }

    /// <summary>Images per chunk (the last chunk may have fewer).</summary>
    public int Chunk { get; }

    /// <summary>Threads the chunks are spread across.</summary>
    public int Threads { get; }

    /// <param name="graph">A graph for which <see cref="Splits(ComputeGraph, int[][])"/> holds at these shapes.</param>
    /// <param name="inputShapes">The whole batch's input shapes (the batch is their first dimension).</param>
    /// <param name="threads">Threads to spread the chunks across.</param>
    /// <param name="chunk">Images per chunk.</param>
    public SplitBatchPlan(ComputeGraph graph, int[][] inputShapes, int threads, int chunk) : this(graph, inputShapes, threads, chunk, check: true) { }

    /// <summary>As the public constructor; <paramref name="check"/> false for a graph <see cref="TryCreate"/> has checked.</summary>
    SplitBatchPlan(ComputeGraph graph, int[][] inputShapes, int threads, int chunk, bool check)
    {
        if (check && !Splits(graph, inputShapes, out var reason)) throw new ArgumentException($"The batch of '{graph.Name}' cannot be split: {reason}.", nameof(graph));
        Graph = graph;
        int batch = inputShapes[0][0];
        Chunk = Math.Clamp(chunk, 1, batch);
        int count = (batch + Chunk - 1) / Chunk;
        Threads = Math.Clamp(threads, 1, count);
        // Any thread may take any chunk: each has a plan for every chunk size (the full one, and the last's if shorter).
        _chunks = Enumerable.Range(0, count).Select(c => (c * Chunk, Math.Min(Chunk, batch - c * Chunk))).ToArray();
        var sizes = _chunks.Select(c => c.Count).Distinct().ToArray();
        _plans = new ExecutionPlan[Threads][];
        _inputs = new Tensor[Threads][][];
        for (int t = 0; t < Threads; t++)
        {
            _plans[t] = new ExecutionPlan[sizes.Length];
            _inputs[t] = new Tensor[sizes.Length][];
            for (int p = 0; p < sizes.Length; p++)
            {
                var shapes = inputShapes.Select(s => WithBatch(s, sizes[p])).ToArray();
                // Made as it will run: its kernels on one thread (workspaces sized for one).
                int tt = t, pp = p;
                Workers.Limited(1, () => _plans[tt][pp] = new ExecutionPlan(graph, shapes));
                _inputs[t][p] = shapes.Select(s => new Tensor(s)).ToArray();
            }
        }
        _outputs = graph.Outputs.Select(v => new Tensor(WithBatch(_plans[0][0].Shapes[v.Id], batch))).ToArray();
    }

    /// <summary>
    /// The plan for these shapes with the chunk <see cref="ChunkFor"/> gives — sized from a one-image plan's activation
    /// buffers and the graph's weights — or null when the graph does not split (<see cref="Splits(ComputeGraph, int[][])"/>).
    /// </summary>
    public static SplitBatchPlan? TryCreate(ComputeGraph graph, int[][] inputShapes, int threads)
    {
        if (!Splits(graph, inputShapes, out _)) return null;
        long perImage = 0;
        var one = inputShapes.Select(s => WithBatch(s, 1)).ToArray();
        Workers.Limited(1, () => perImage = new ExecutionPlan(graph, one).ActivationFloats * sizeof(float));
        long weights = graph.Values.Where(v => v.Kind == ValueKind.Parameter).Sum(v => (long)v.Parameter!.Value.Length * sizeof(float));
        return new SplitBatchPlan(graph, inputShapes, threads, ChunkFor(perImage, weights, inputShapes[0][0], threads), check: false);
    }

    static int[] WithBatch(int[] shape, int batch)
    {
        var s = (int[])shape.Clone();
        s[0] = batch;
        return s;
    }

    /// <summary>
    /// Images per chunk. For the cache: as many as fit with every activation buffer a one-image plan holds at once
    /// (<paramref name="perImageBytes"/>) in half of each thread's share of the last-level cache (the other half for
    /// weights and scratch), at least one. But every chunk reads all the weights again (<paramref name="weightBytes"/>):
    /// at least as many images as make the chunk's activations outweigh them; where that is more than twice what the
    /// cache holds, the chunks would leave the cache anyway, and each thread takes its share of the batch in one chunk.
    /// At most the batch divided among the threads. (Two cores, 32 MiB L3, batch 32: SqueezeNet 1.1 gets 2 and
    /// MobileNetV2 2, 1.2–1.3× and 1.1–1.2× the whole-batch plan; ResNet-18's 47 MB of weights make it 16 — in
    /// chunks of 8 it ran at 0.87×.)
    /// </summary>
    public static int ChunkFor(long perImageBytes, long weightBytes, int batch, int threads)
    {
        threads = Math.Max(1, threads);
        long most = Math.Max(1, batch / threads), per = Math.Max(1, perImageBytes);
        long fit = Math.Max(1, CacheSizes.L3 / threads / 2 / per);
        long weights = Math.Max(1, (weightBytes + per - 1) / per);
        long chunk = weights > 2 * fit ? most : Math.Max(fit, weights);
        return (int)Math.Clamp(chunk, 1, most);
    }

    /// <summary>Runs the graph; the outputs stay valid until the next run of this plan.</summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != Graph.Inputs.Count) throw new ArgumentException($"Expected {Graph.Inputs.Count} inputs, got {inputs.Count}.");
        int batch = _outputs[0].Dim(0);
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i].Rank == 0 || inputs[i].Dim(0) != batch)
                throw new ShapeException($"Input '{Graph.Inputs[i].Name}' has shape {Shapes.Format(inputs[i].Shape)}; this plan was made for a batch of {batch}.");
        int next = -1;
        Workers.Run(Threads, t => Workers.Limited(1, () =>
        {
            for (int c; (c = Interlocked.Increment(ref next)) < _chunks.Length;)
            {
                var (first, count) = _chunks[c];
                int p = count == Chunk ? 0 : _plans[t].Length - 1;
                var own = _inputs[t][p];
                for (int i = 0; i < inputs.Count; i++)
                {
                    int per = own[i].Length / count;
                    Array.Copy(inputs[i].Data, (long)first * per, own[i].Data, 0, own[i].Length);
                }
                var outs = _plans[t][p].Run(own);
                for (int o = 0; o < outs.Length; o++)
                {
                    int per = outs[o].Length / count;
                    Array.Copy(outs[o].Data, 0, _outputs[o].Data, (long)first * per, outs[o].Length);
                }
            }
        }));
        return _outputs;
    }

    /// <summary>
    /// Whether every node of <paramref name="graph"/> computes each image from that image alone at these input shapes
    /// (batch ≥ 2, the first dimension of every input): every activation is either batched (first dimension the batch,
    /// the rest as at batch 1) or the same at any batch, every output is batched, and every node is one of the ops known
    /// to work image by image — convolutions with fixed weights (fused or not, with concats written in place), pooling,
    /// batch norm at inference, elementwise ops on operands of the output's rank, Dropout, Identity, reshapes that keep
    /// the batch first, Concat and Softmax on another axis, and Gemm on batched rows with fixed weights.
    /// </summary>
    public static bool Splits(ComputeGraph graph, int[][] inputShapes) => Splits(graph, inputShapes, out _);

    /// <inheritdoc cref="Splits(ComputeGraph, int[][])"/>
    /// <param name="graph">The graph.</param>
    /// <param name="inputShapes">The whole batch's input shapes.</param>
    /// <param name="reason">Why not, when it does not.</param>
    public static bool Splits(ComputeGraph graph, int[][] inputShapes, out string reason)
    {
        reason = "";
        if (inputShapes.Length == 0 || inputShapes.Any(s => s.Length == 0)) { reason = "an input has no batch dimension"; return false; }
        int batch = inputShapes[0][0];
        if (batch < 2 || inputShapes.Any(s => s[0] != batch)) { reason = "the inputs do not share a batch of 2 or more"; return false; }
        int[][] whole, one;
        try
        {
            whole = PlanOptimizer.InferShapes(graph, inputShapes);
            one = PlanOptimizer.InferShapes(graph, inputShapes.Select(s => WithBatch(s, 1)).ToArray());
        }
        catch (ShapeException e) { reason = $"the graph does not take a batch of 1 ({e.Message})"; return false; }
        var batched = new bool[graph.Values.Count];
        foreach (var v in graph.Values)
        {
            if (v.Kind == ValueKind.Parameter || whole[v.Id] == null) continue;
            var (w, o) = (whole[v.Id], one[v.Id]);
            if (w.AsSpan().SequenceEqual(o)) continue;   // the same at any batch
            if (w.Length == o.Length && w[0] == batch && o[0] == 1 && w.AsSpan(1).SequenceEqual(o.AsSpan(1))) { batched[v.Id] = true; continue; }
            reason = $"value '{v.Name}' is {Shapes.Format(w)} at batch {batch} and {Shapes.Format(o)} at batch 1";
            return false;
        }
        foreach (var v in graph.Outputs)
            if (!batched[v.Id]) { reason = $"output '{v.Name}' does not carry the batch"; return false; }
        foreach (var node in graph.Nodes)
        {
            int rank = whole[node.Outputs[0].Id].Length;
            bool ok = node.Op switch
            {
                // Weights computed from the images would mix them.
                ConvOp => node.Inputs.Skip(1).All(i => !batched[i.Id]),
                FusedConvOp => !batched[node.Inputs[1].Id] && !batched[node.Inputs[2].Id] && node.Inputs.Skip(3).All(i => whole[i.Id].Length == rank),
                // Broadcasting aligns trailing dimensions: a batched operand of lower rank would meet another axis.
                BinaryOp => node.Inputs.All(i => !batched[i.Id] || whole[i.Id].Length == rank),
                FusedConcatOp or PoolOp or GlobalPoolOp or BatchNormalizationOp or UnaryOp or DropoutOp or IdentityOp or ReshapeOp => true,
                ConcatOp c => Shapes.NormalizeAxis(c.Axis, rank) != 0,
                SoftmaxOp s => Shapes.NormalizeAxis(s.Axis, rank) != 0,
                GemmOp g => !g.TransA && node.Inputs.Skip(1).All(i => !batched[i.Id]),
                _ => false,
            };
            if (!ok) { reason = $"node '{node.Name}' ({node.Op.Type}) may mix images"; return false; }
        }
        return true;
    }
}
