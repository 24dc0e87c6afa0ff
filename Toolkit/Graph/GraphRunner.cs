using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Runs a graph for any input shape, keeping one <see cref="ExecutionPlan"/> per shape seen. With
/// <paramref name="optimize"/> each plan runs the graph as <see cref="PlanOptimizer"/> rewrites it (batch norm folded,
/// activations and residual adds in the convolutions' epilogues): for weights that stay fixed while the runner lives
/// (inference, a frozen prefix), since the folded weights are copies taken when a shape is first seen.
/// </summary>
public sealed class GraphRunner(ComputeGraph graph, bool optimize = false)
{
    readonly Dictionary<string, ExecutionPlan> _plans = new();

    public ComputeGraph Graph { get; } = graph;

    public ExecutionPlan PlanFor(IReadOnlyList<Tensor> inputs)
    {
        var key = string.Join(";", inputs.Select(t => Shapes.Format(t.Shape)));
        if (!_plans.TryGetValue(key, out var plan))
        {
            var shapes = inputs.Select(t => t.ShapeArray).ToArray();
            _plans[key] = plan = new ExecutionPlan(optimize ? PlanOptimizer.Optimize(Graph, shapes) : Graph, shapes);
        }
        return plan;
    }

    /// <summary>Runs the graph and returns copies of its outputs.</summary>
    public Tensor[] Run(params Tensor[] inputs) => PlanFor(inputs).Run(inputs).Select(t => t.Clone()).ToArray();
}
