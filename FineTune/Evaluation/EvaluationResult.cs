using TransferKit.Augment.Loading;
using TransferKit.FineTune.Reporting;

namespace TransferKit.FineTune.Evaluation;

/// <summary>What evaluating a classifier on a labelled image folder found.</summary>
/// <param name="Data">The folder actually evaluated (DIR, or its val/ or validation/ subfolder).</param>
/// <param name="ClassNames">Names of the model's output classes (the matrix's rows and columns).</param>
/// <param name="Confusion">Rows: true class; columns: predicted class (arg-max output), over the model's classes.</param>
/// <param name="Classes">Per-class metrics, for every output class.</param>
/// <param name="Skipped">Files left out of every count, with why: unreadable, or left out by the folder's listing (e.g. an unsupported format), in ordinal order of path.</param>
public sealed record EvaluationResult(
    string Model, string Data, string Engine, string Preprocessing, string PreprocessingSource,
    IReadOnlyList<string> ClassNames, ConfusionMatrix Confusion, IReadOnlyList<ClassMetrics> Classes,
    IReadOnlyList<SkippedFile> Skipped, double Seconds)
{
    /// <summary>Views each image's prediction averaged (1 without test-time augmentation).</summary>
    public int TtaViews { get; init; } = 1;

    public long Images => Confusion.Total;
    public double Accuracy => Confusion.Accuracy;

    /// <summary>Classes that occur in the data or in the predictions (the others are all zeros).</summary>
    public IReadOnlyList<ClassMetrics> Involved => Classes.Where(c => c.Support > 0 || c.Predicted > 0).ToList();

    /// <summary>Macro averages over the classes present in the data.</summary>
    public (double Precision, double Recall, double F1) Macro => ClassMetrics.MacroAverage(Classes);
}
