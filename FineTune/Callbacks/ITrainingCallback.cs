namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Code the training loop calls at fixed points of a run (Keras' <c>Callback</c>, fastai's <c>Callback</c>): before
/// the first epoch, around every epoch, after every batch, and after the last epoch. Every method has an empty default,
/// so a callback implements only what it needs. A callback reads the run through the <see cref="TrainingContext"/> and
/// may ask it to stop (<see cref="TrainingContext.StopPhase"/>, <see cref="TrainingContext.StopTraining"/>).
/// </summary>
/// <remarks>
/// Callbacks run in ascending <see cref="Order"/> (fastai's <c>order</c>), those of equal order in the order they were
/// given. The run's own callbacks use it so that what decides runs before what records: <see cref="TerminateOnNaN"/>
/// (−100) first, then best-epoch tracking (−20) and <see cref="EarlyStopping"/> (−10), callbacks of order 0 (the
/// default), and after them the checkpoint (50), metrics.csv (60), the epoch's log line (70) and warnings (80). A
/// callback of order 0 that stops the phase is therefore seen by the checkpoint, which records where a resume goes on.
/// </remarks>
public interface ITrainingCallback
{
    /// <summary>Where the callback runs among the others (lower first; default 0).</summary>
    int Order => 0;

    /// <summary>Once, after the model, data and (on a resume) the last checkpoint are loaded and before the first epoch.</summary>
    void OnTrainBegin(TrainingContext context) { }

    /// <summary>Before each epoch's first batch.</summary>
    void OnEpochBegin(TrainingContext context) { }

    /// <summary>After each training batch's optimizer step, with <see cref="TrainingContext.BatchLoss"/> set.</summary>
    void OnBatchEnd(TrainingContext context) { }

    /// <summary>After each epoch's validation, with <see cref="TrainingContext.Metrics"/> set to the epoch's metrics.</summary>
    void OnEpochEnd(TrainingContext context) { }

    /// <summary>Once, after the last epoch (or a stop), before the model is exported.</summary>
    void OnTrainEnd(TrainingContext context) { }
}
