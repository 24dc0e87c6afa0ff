using TransferKit.Augment.Datasets;
using TransferKit.Augment.Presets;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Reporting;

/// <summary>What a fine-tune run hands to <see cref="RunReport"/>: its summary and settings, the per-epoch metrics,
/// and the best epoch's validation predictions with the dataset they index into.</summary>
/// <param name="BestValidation">Validation results of the best epoch (null when no epoch ran).</param>
/// <param name="Validation">The validation dataset <paramref name="BestValidation"/>'s sample indices refer to.</param>
/// <param name="Preprocessing">The model's input convention (decides how thumbnails are framed).</param>
public sealed record ReportData(
    FineTuneSummary Summary, FineTuneOptions Options, IReadOnlyList<EpochMetrics> Epochs, ValidationPass? BestValidation,
    ImageDataset Validation, Preprocessing Preprocessing)
{
    /// <summary>Names of the model's output classes: the dataset's, then "class N" for any extra outputs (--classes N).</summary>
    public IReadOnlyList<string> ClassNames(int outputs) => ClassNamesOf(Summary.Classes, outputs);

    /// <summary>The dataset's class names, then "class N" up to <paramref name="outputs"/> names.</summary>
    public static IReadOnlyList<string> ClassNamesOf(IReadOnlyList<string> classes, int outputs) =>
        Enumerable.Range(0, Math.Max(outputs, classes.Count)).Select(k => k < classes.Count ? classes[k] : $"class {k}").ToArray();
}
