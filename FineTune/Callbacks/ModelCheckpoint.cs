using TransferKit.FineTune.Checkpoints;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Writes the run's checkpoint pair after every epoch: checkpoints/last.tkc always, best.tkc when the epoch is the
/// best by the run's monitor (<see cref="TrainingContext.IsBest"/>), in <see cref="CheckpointKeeper.Save"/>'s order,
/// which keeps the pair consistent at every instant. It runs after the callbacks that decide (best epoch, stops), so
/// the checkpoint records whether the phase is over and a resume continues where this run would have.
/// </summary>
/// <param name="state">The run's state to save, given whether the epoch ends its phase (the job builds it).</param>
/// <param name="stop">The kill tests' seam (<see cref="Training.FineTuneJob.CheckpointStop"/>); null in normal runs.</param>
sealed class ModelCheckpoint(Func<TrainingContext, bool, RunCheckpoint> state, Action<CheckpointStep, int>? stop) : ITrainingCallback
{
    public int Order => 50;

    public void OnEpochEnd(TrainingContext context)
    {
        bool phaseOver = context.StopPhaseRequested || context.PhaseEpoch + 1 == context.PhaseEpochs;
        CheckpointKeeper.Save(context.RunDirectory, state(context, phaseOver), context.Graph, context.IsBest, stop);
        context.LastCheckpointEpoch = context.Epoch;
    }
}
