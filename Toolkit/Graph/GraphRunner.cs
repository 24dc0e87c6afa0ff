using TransferKit.Toolkit.Tensors;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Runs a graph for any input shape, keeping one <see cref="ExecutionPlan"/> per shape seen. With
/// <paramref name="optimize"/> each plan runs the graph as <see cref="PlanOptimizer"/> rewrites it (batch norm folded,
/// activations and residual adds in the convolutions' epilogues): for weights that stay fixed while the runner lives
/// (inference, a frozen prefix), since the folded weights are copies taken when a shape is first seen.
/// <see cref="Infer"/> also cuts a batch into chunks spread across threads where the rewritten graph allows
/// (<see cref="SplitBatchPlan"/>).
/// </summary>
public sealed class GraphRunner(ComputeGraph graph, bool optimize = false)
{
    readonly Dictionary<string, ExecutionPlan> _plans = new();
    readonly Dictionary<string, SplitBatchPlan?> _split = new();
    readonly Dictionary<string, ComputeGraph> _optimized = new();

    public ComputeGraph Graph { get; } = graph;

    static string KeyOf(IReadOnlyList<Tensor> inputs) => string.Join(";", inputs.Select(t => Shapes.Format(t.Shape)));

    /// <summary>The graph the plans for these shapes run: rewritten once per shape with <c>optimize</c>, else the graph itself.</summary>
    ComputeGraph GraphFor(string key, int[][] shapes)
    {
        if (!optimize) return Graph;
        if (!_optimized.TryGetValue(key, out var g)) _optimized[key] = g = PlanOptimizer.Optimize(Graph, shapes);
        return g;
    }

    public ExecutionPlan PlanFor(IReadOnlyList<Tensor> inputs)
    {
        var key = KeyOf(inputs);
        if (!_plans.TryGetValue(key, out var plan))
        {
            var shapes = inputs.Select(t => t.ShapeArray).ToArray();
            _plans[key] = plan = new ExecutionPlan(GraphFor(key, shapes), shapes);
        }
        return plan;
    }

    /// <summary>
    /// Runs the graph at inference; the outputs stay valid until the next call with the same shapes. With
    /// <c>optimize</c>, more than one thread (<see cref="Workers.MaxThreads"/>) and a batch of at least as many images,
    /// the batch goes in chunks spread across the threads (<see cref="SplitBatchPlan"/>, chunk size from the
    /// activation buffers of one image and the cache) when every node works image by image; otherwise one plan runs
    /// the whole batch, its kernels spreading their work across the threads.
    /// </summary>
    public Tensor[] Infer(IReadOnlyList<Tensor> inputs) => Workers.Pinned(() => InferPinned(inputs));

    Tensor[] InferPinned(IReadOnlyList<Tensor> inputs)
    {
        var key = KeyOf(inputs);
        int threads = Workers.MaxThreads;
        if (optimize && threads > 1 && inputs.Count > 0 && inputs[0].Rank > 0 && inputs[0].Dim(0) >= threads)
        {
            var splitKey = key + "@" + threads;
            if (!_split.TryGetValue(splitKey, out var split))
            {
                var shapes = inputs.Select(t => t.ShapeArray).ToArray();
                var g = GraphFor(key, shapes);
                split = SplitBatchPlan.TryCreate(g, shapes, threads);
                _split[splitKey] = split;
            }
            if (split != null) return split.Run(inputs);
        }
        return PlanFor(inputs).Run(inputs);
    }

    /// <summary>Runs the graph and returns copies of its outputs.</summary>
    public Tensor[] Run(params Tensor[] inputs) => PlanFor(inputs).Run(inputs).Select(t => t.Clone()).ToArray();
}
