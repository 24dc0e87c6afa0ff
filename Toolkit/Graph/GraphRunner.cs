using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>Runs a graph for any input shape, keeping one <see cref="ExecutionPlan"/> per shape seen.</summary>
public sealed class GraphRunner(ComputeGraph graph)
{
    readonly Dictionary<string, ExecutionPlan> _plans = new();

    public ComputeGraph Graph { get; } = graph;

    public ExecutionPlan PlanFor(IReadOnlyList<Tensor> inputs)
    {
        var key = string.Join(";", inputs.Select(t => Shapes.Format(t.Shape)));
        if (!_plans.TryGetValue(key, out var plan))
            _plans[key] = plan = new ExecutionPlan(Graph, inputs.Select(t => t.ShapeArray).ToArray());
        return plan;
    }

    /// <summary>Runs the graph and returns copies of its outputs.</summary>
    public Tensor[] Run(params Tensor[] inputs) => PlanFor(inputs).Run(inputs).Select(t => t.Clone()).ToArray();
}
