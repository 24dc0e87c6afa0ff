namespace TransferKit.FineTune.Callbacks;

/// <summary>The run log's line per epoch (after its checkpoint is written: a log line means the epoch is saved).</summary>
sealed class EpochLog : ITrainingCallback
{
    public int Order => 70;

    public void OnEpochEnd(TrainingContext context)
    {
        var m = context.Metrics!;
        context.Log.WriteLine($"epoch {context.Epoch,3}/{context.TotalEpochs} [{context.Phase}]  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P1}  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P1}  lr {Reporting.Numbers.Fixed(m.LearningRate)}  {m.Seconds:F1}s");
    }
}
