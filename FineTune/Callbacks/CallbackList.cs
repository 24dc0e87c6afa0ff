namespace TransferKit.FineTune.Callbacks;

/// <summary>Callbacks in the order they run (ascending <see cref="ITrainingCallback.Order"/>, stable), called as one.</summary>
sealed class CallbackList(IEnumerable<ITrainingCallback> callbacks)
{
    readonly ITrainingCallback[] _all = callbacks.Select((c, i) => (c, i)).OrderBy(t => t.c.Order).ThenBy(t => t.i).Select(t => t.c).ToArray();

    public IReadOnlyList<ITrainingCallback> All => _all;

    public void TrainBegin(TrainingContext c) { foreach (var cb in _all) cb.OnTrainBegin(c); }
    public void EpochBegin(TrainingContext c) { foreach (var cb in _all) cb.OnEpochBegin(c); }
    public void BatchEnd(TrainingContext c) { foreach (var cb in _all) cb.OnBatchEnd(c); }
    public void EpochEnd(TrainingContext c) { foreach (var cb in _all) cb.OnEpochEnd(c); }
    public void TrainEnd(TrainingContext c) { foreach (var cb in _all) cb.OnTrainEnd(c); }
}
