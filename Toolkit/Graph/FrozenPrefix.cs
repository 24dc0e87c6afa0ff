namespace TransferKit.Toolkit.Graph;

/// <summary>
/// A graph cut where training starts: <see cref="Prefix"/> holds the nodes before the first one on a path from a
/// trainable parameter (moved before any dropout right in front of it), <see cref="Suffix"/> the rest, and the values
/// that cross the cut are the prefix's outputs and the suffix's inputs, in <see cref="FrontierValues"/> order. When every
/// prefix node runs in inference mode, the prefix is inference: it runs through <see cref="GraphRunner.Infer"/>
/// (rewritten, the batch in chunks across threads) once per batch, or once per cached view, and only the suffix goes
/// into a <see cref="TrainingPlan"/> — a head-only step then runs its frozen body as fast as inference does.
/// </summary>
public sealed class FrozenPrefix
{
    FrozenPrefix(ComputeGraph prefix, ComputeGraph suffix, IReadOnlyList<Value> frontierValues, int frontier)
    {
        Prefix = prefix; Suffix = suffix; FrontierValues = frontierValues; Frontier = frontier;
    }

    /// <summary>The nodes before the cut; its outputs are <see cref="FrontierValues"/>.</summary>
    public ComputeGraph Prefix { get; }

    /// <summary>The nodes from the cut on, with the original graph's outputs; its inputs are <see cref="FrontierValues"/>.</summary>
    public ComputeGraph Suffix { get; }

    /// <summary>Values of the original graph that cross the cut: produced before it (or graph inputs) and read after it.</summary>
    public IReadOnlyList<Value> FrontierValues { get; }

    /// <summary>Index in the original graph of the suffix's first node.</summary>
    public int Frontier { get; }

    /// <summary>
    /// Index of the first node on a path from a trainable parameter, moved before any dropout right in front (a head's
    /// dropout trains with it); the node count when no node is, 0 when the first node is.
    /// </summary>
    public static int FrontierOf(ComputeGraph graph)
    {
        var needs = new bool[graph.Values.Count];
        int first = graph.Nodes.Count;
        foreach (var n in graph.Nodes)
        {
            if (!n.Inputs.Any(v => needs[v.Id] || (v.Kind == ValueKind.Parameter && v.Parameter!.Trainable))) continue;
            foreach (var o in n.Outputs) needs[o.Id] = true;
            first = Math.Min(first, n.Index);
        }
        while (first > 0 && graph.Nodes[first - 1].Op is Ops.DropoutOp) first--;
        return first;
    }

    /// <summary>
    /// The cut of <paramref name="graph"/> at <see cref="FrontierOf"/>, or null when it leaves nothing to run as
    /// inference: no node before it, a prefix node that runs in training mode (<paramref name="inferenceMode"/> false),
    /// a crossing value that is a graph input (the prefix does not produce it) or no trainable parameter at all.
    /// </summary>
    public static FrozenPrefix? TryCreate(ComputeGraph graph, Func<Node, bool> inferenceMode)
    {
        int frontier = FrontierOf(graph);
        if (frontier == 0 || frontier >= graph.Nodes.Count) return null;
        if (graph.Nodes.Take(frontier).Any(n => !inferenceMode(n))) return null;
        var crossing = graph.Nodes.Where(n => n.Index >= frontier).SelectMany(n => n.Inputs)
            .Where(v => v.Kind != ValueKind.Parameter && (v.Producer == null || v.Producer.Index < frontier)).Distinct().ToList();
        if (crossing.Count == 0 || crossing.Any(v => v.Kind != ValueKind.Activation)) return null;
        // An output of the original graph produced before the cut would leave the suffix without it.
        if (graph.Outputs.Any(v => v.Producer is { } p && p.Index < frontier)) return null;
        return new FrozenPrefix(graph.Subgraph(0, frontier, crossing), graph.Subgraph(frontier, graph.Nodes.Count, graph.Outputs), crossing, frontier);
    }
}
