namespace TransferKit.Toolkit.Optim;

/// <summary>One step of a learning-rate sweep: the rate it trained at, the batch's loss and the smoothed loss.</summary>
public sealed record LrFinderPoint(int Step, double LearningRate, double Loss, double SmoothedLoss);
