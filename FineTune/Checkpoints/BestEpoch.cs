namespace TransferKit.FineTune.Checkpoints;

/// <summary>The best epoch so far (highest validation accuracy, ties to the lower validation loss).</summary>
/// <param name="Epoch">1-based epoch number in the run.</param>
public sealed record BestEpoch(int Epoch, double ValAccuracy, double ValLoss);
