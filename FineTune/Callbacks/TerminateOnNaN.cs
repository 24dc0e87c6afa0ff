using TransferKit.FineTune.Checkpoints;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Stops the run with an <see cref="ArithmeticException"/> the moment a training batch's loss or an epoch's
/// validation loss is NaN or infinite (Keras' <c>TerminateOnNaN</c>), before anything of that epoch is saved; the
/// message names the epoch (and batch), suggests a lower learning rate and says which checkpoint is the last good one.
/// </summary>
public sealed class TerminateOnNaN : ITrainingCallback
{
    /// <inheritdoc/>
    public int Order => -100;

    /// <inheritdoc/>
    public void OnBatchEnd(TrainingContext context)
    {
        double l = context.BatchLoss;
        if (double.IsFinite(l)) return;
        throw new ArithmeticException($"The training loss became {l} at epoch {context.Epoch}, batch {context.Batch}; lower the learning rate (--lr)."
            + (context.LastCheckpointEpoch is { } e
                ? $" The run stopped; its last good checkpoint (epoch {e}) is kept in {RunCheckpoint.LastPath(context.RunDirectory)} (transferkit export turns a checkpoint into ONNX)."
                : " The run stopped before its first checkpoint."));
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context)
    {
        double l = context.Metrics!.ValLoss;
        if (double.IsFinite(l)) return;
        throw new ArithmeticException($"The validation loss became {l} at epoch {context.Epoch}; lower the learning rate (--lr). The run stopped; "
            + (context.LastCheckpointEpoch is { } e ? $"its last good checkpoint (epoch {e}) is kept in {RunCheckpoint.LastPath(context.RunDirectory)}." : "no checkpoint was written."));
    }
}
