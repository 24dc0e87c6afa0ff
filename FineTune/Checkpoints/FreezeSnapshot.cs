using TransferKit.FineTune.Freezing;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// A freeze plan as applied: its rules, the batch-norm policy, the trainable parameters and the batch-norm layers
/// that run on batch statistics. A resumed run rebuilds the plan from its options and checks it against this.
/// </summary>
public sealed record FreezeSnapshot(BatchNormPolicy BatchNorm, string[] Rules, string[] Trainable, string[] BatchStatisticsNodes)
{
    public static FreezeSnapshot Of(FreezePlan plan, ComputeGraph graph) => new(
        plan.BatchNorm,
        [.. plan.Rules],
        graph.Parameters.Where(p => p.Trainable).Select(p => p.Name).ToArray(),
        graph.Nodes.Where(n => n.Op is BatchNormalizationOp && plan.TrainingMode(n)).Select(n => n.Name).ToArray());

    /// <summary>What differs from <paramref name="other"/>, in words, or null when the two agree.</summary>
    public string? Difference(FreezeSnapshot other)
    {
        if (BatchNorm != other.BatchNorm) return $"batch-norm policy {BatchNorm} vs {other.BatchNorm}";
        var onlyHere = Trainable.Except(other.Trainable).ToList();
        var onlyThere = other.Trainable.Except(Trainable).ToList();
        if (onlyHere.Count + onlyThere.Count > 0)
            return $"trainable parameters differ ({string.Join(", ", onlyHere.Concat(onlyThere).Take(5))})";
        if (!BatchStatisticsNodes.Order().SequenceEqual(other.BatchStatisticsNodes.Order())) return "batch-norm layers in training mode differ";
        return null;
    }
}
