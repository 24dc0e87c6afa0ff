namespace TransferKit.FineTune.Checkpoints;

/// <summary>The best epoch so far by the run's monitor (by default the highest validation accuracy, ties to the lower validation loss), with its validation metrics.</summary>
/// <param name="Epoch">1-based epoch number in the run.</param>
public sealed record BestEpoch(int Epoch, double ValAccuracy, double ValLoss);
