using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Ends the phase when the monitored metric has not improved for <see cref="Patience"/> epochs (Keras'
/// <c>EarlyStopping</c>: <c>monitor</c>, <c>mode</c>, <c>min_delta</c>, <c>patience</c>). The epochs are counted from
/// the best epoch over the whole run, so in a two-phase recipe a full phase that does not beat the head phase's best
/// within the patience stops too. A resumed run replays its earlier epochs, so it stops where an uninterrupted one
/// would. The best weights are kept by <see cref="KeepBestEpoch"/>, not here.
/// </summary>
public sealed class EarlyStopping : ITrainingCallback
{
    EpochMetrics? _best;

    /// <summary>Stops after <paramref name="patience"/> epochs without an improvement of the metric named by <paramref name="monitor"/>.</summary>
    /// <param name="patience">Epochs without improvement before the stop, at least 1.</param>
    /// <param name="monitor">The metric (see <see cref="MetricMonitor.Names"/>).</param>
    /// <param name="mode">auto, min or max.</param>
    /// <param name="minDelta">The least change that counts as an improvement.</param>
    public EarlyStopping(int patience, string monitor = "val_accuracy", string mode = "auto", double minDelta = 0)
        : this(patience, new MetricMonitor(monitor, mode, minDelta)) { }

    /// <summary>Stops after <paramref name="patience"/> epochs without an improvement by <paramref name="monitor"/>.</summary>
    public EarlyStopping(int patience, MetricMonitor monitor)
    {
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), patience, "The patience is at least one epoch.");
        Patience = patience;
        Monitor = monitor;
    }

    /// <summary>Epochs without improvement before the phase ends.</summary>
    public int Patience { get; }

    /// <summary>What counts as an improvement.</summary>
    public MetricMonitor Monitor { get; }

    /// <summary>The best epoch this callback has seen (1-based; 0 before the first).</summary>
    public int BestEpoch => _best?.Epoch ?? 0;

    /// <inheritdoc/>
    public int Order => -10;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainingContext context)
    {
        _best = null;
        foreach (var m in context.History) if (Monitor.Improves(m, _best)) _best = m;
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context)
    {
        var m = context.Metrics!;
        if (Monitor.Improves(m, _best)) { _best = m; return; }
        if (m.Epoch - _best!.Epoch >= Patience) context.StopPhase($"early stop: no {Monitor.Describe()} for {Patience} epochs");
    }
}
