using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Rewrites a CSV file of every epoch's metrics after each epoch (Keras' <c>CSVLogger</c>): the header
/// <see cref="EpochMetrics.CsvHeader"/>, then one row per epoch, a resumed run's earlier epochs included. The file is
/// replaced atomically, so a reader never sees half of it. Every run writes its metrics.csv with one.
/// </summary>
/// <param name="path">The file to write.</param>
public sealed class CsvLogger(string path) : ITrainingCallback
{
    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc/>
    public int Order => 60;

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context) =>
        FineTuneJob.WriteAtomically(Path, EpochMetrics.CsvHeader + "\n" + string.Join("\n", context.History.Select(m => m.ToCsv())) + "\n");
}
