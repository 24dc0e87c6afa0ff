namespace TransferKit.FineTune.Reporting;

/// <summary>
/// The pictures of a run report, rendered by <see cref="RunReport.Render"/> before the report is written (a run renders
/// them while it exports and checks its model), with the validation figures they show.
/// </summary>
public sealed class ReportCharts
{
    /// <summary>A highest-loss validation image: its index in the validation pass, its loss, its file, and its thumbnail PNG or why it could not be read.</summary>
    public sealed record Thumbnail(int Index, double Loss, string? Path, byte[]? Png, string? Unreadable);

    /// <summary>The epoch the curves mark as best.</summary>
    public int BestEpoch { get; init; }

    /// <summary>Loss, accuracy and learning-rate curves (null when no epoch ran).</summary>
    public byte[]? Loss { get; internal set; }
    public byte[]? Accuracy { get; internal set; }
    public byte[]? LearningRate { get; internal set; }

    /// <summary>The best epoch's validation confusion matrix and per-class metrics (null and empty without validation predictions).</summary>
    public ConfusionMatrix? Matrix { get; internal set; }
    public IReadOnlyList<ClassMetrics> Metrics { get; internal set; } = [];

    /// <summary>The names of the model's outputs.</summary>
    public IReadOnlyList<string> Names { get; internal set; } = [];

    /// <summary>The classes shown: those the data has or the model predicts (the others stay out of charts and tables).</summary>
    public IReadOnlyList<ClassMetrics> Shown => Metrics.Where(m => m.Support > 0 || m.Predicted > 0).ToList();

    /// <summary>The confusion matrix over <see cref="Shown"/> (null without validation predictions).</summary>
    public ConfusionMatrix? ShownMatrix => Matrix?.Subset(Shown.Select(m => m.Index).ToList());

    /// <summary>Pictures of the confusion matrix and of per-class precision and recall.</summary>
    public byte[]? Confusion { get; internal set; }
    public byte[]? PerClass { get; internal set; }

    /// <summary>The highest-loss validation images, highest first.</summary>
    public IReadOnlyList<Thumbnail> Worst { get; internal set; } = [];
}
