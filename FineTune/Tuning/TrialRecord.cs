namespace TransferKit.FineTune.Tuning;

/// <summary>One finished trial: where it sat in the space, how it ended, its best epoch's validation metrics and its run folder.</summary>
public sealed record TrialRecord(
    int Number, Configuration Configuration, TrialStatus Status, double ValAccuracy, double ValLoss, int BestEpoch,
    int EpochsRun, double Seconds, string Folder, IReadOnlyList<double> Curve, string? Error)
{
    /// <summary>What the sampler sees of it.</summary>
    public Observation ToObservation() => new(Configuration, Status, ValAccuracy);

    /// <summary>
    /// The best trial: complete trials before pruned ones (failed ones never), then higher validation accuracy, then
    /// lower validation loss at the best epoch, then the earlier trial. Null when every trial failed.
    /// </summary>
    public static TrialRecord? Best(IEnumerable<TrialRecord> trials) =>
        trials.Where(t => t.Status != TrialStatus.Failed)
            .OrderBy(t => t.Status)
            .ThenByDescending(t => t.ValAccuracy)
            .ThenBy(t => double.IsNaN(t.ValLoss) ? double.PositiveInfinity : t.ValLoss)
            .ThenBy(t => t.Number)
            .FirstOrDefault();
}
