using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Tracks the best epoch by a <see cref="MetricMonitor"/>, keeps a copy of its weights in memory and puts them back
/// into the model when training ends (Keras' <c>restore_best_weights</c>, fastai's <c>SaveModelCallback</c>), so the
/// export gets the best epoch. It marks the context (<see cref="TrainingContext.IsBest"/>, <see cref="TrainingContext.Best"/>),
/// which the checkpoint follows: best.tkc is the best epoch by the same monitor. A resumed run takes its best epoch
/// and weights from the run's checkpoints (<see cref="CheckpointKeeper.BestWeights"/>). Every run has one; the job
/// adds it with the run's monitor.
/// </summary>
public sealed class KeepBestEpoch : ITrainingCallback
{
    Dictionary<Parameter, float[]>? _weights;
    EpochMetrics? _best;

    /// <summary>Keeps the best epoch by <paramref name="monitor"/> (default: <see cref="MetricMonitor.Default"/>).</summary>
    public KeepBestEpoch(MetricMonitor? monitor = null) => Monitor = monitor ?? MetricMonitor.Default;

    /// <summary>What counts as better.</summary>
    public MetricMonitor Monitor { get; }

    /// <summary>The best epoch's validation pass (null until an epoch of this process is the best).</summary>
    public ValidationPass? BestValidation { get; private set; }

    /// <summary>Whether best weights are held (and were restored at the end).</summary>
    public bool HasBest => _weights != null;

    /// <inheritdoc/>
    public int Order => -20;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainingContext context)
    {
        if (context.Resumed is not { Best: not null } resumed) return;
        var (b, weights) = CheckpointKeeper.BestWeights(context.RunDirectory, resumed, context.Graph, context.Log, Monitor);
        _weights = weights;
        _best = resumed.Metrics[b.Epoch - 1];
        context.Best = b;
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context)
    {
        var m = context.Metrics!;
        if (!Monitor.Improves(m, _best)) return;
        _best = m;
        _weights = context.Graph.Parameters.ToDictionary(p => p, p => p.Value.Span.ToArray());
        BestValidation = context.Validation;
        context.Best = new BestEpoch(m.Epoch, m.ValAccuracy, m.ValLoss);
        context.IsBest = true;
    }

    /// <inheritdoc/>
    public void OnTrainEnd(TrainingContext context)
    {
        if (_weights != null) foreach (var (p, w) in _weights) w.CopyTo(p.Value.Span);
    }
}
