using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// What a <see cref="ITrainingCallback"/> sees of a run: where it is (phase, epoch, batch, step), the metrics so far,
/// the best epoch, the model's graph, and the way to stop it. One context lives for the whole run; the training loop
/// updates it before each call.
/// </summary>
public sealed class TrainingContext
{
    internal TrainingContext(string runDirectory, ComputeGraph graph, IReadOnlyList<string> classes, IReadOnlyList<string> phases,
        int totalEpochs, TextWriter log, RunCheckpoint? resumed)
    {
        RunDirectory = runDirectory; Graph = graph; Classes = classes; Phases = phases; TotalEpochs = totalEpochs; Log = log; Resumed = resumed;
        if (resumed != null)
        {
            _history.AddRange(resumed.Metrics);
            Epoch = resumed.Position.EpochsDone;
            LastCheckpointEpoch = resumed.Position.EpochsDone;
        }
    }

    readonly List<EpochMetrics> _history = [];

    /// <summary>The run folder (tuned.onnx, metrics.csv, checkpoints/).</summary>
    public string RunDirectory { get; }

    /// <summary>The model being trained; its parameters hold the current weights.</summary>
    public ComputeGraph Graph { get; }

    /// <summary>The dataset's class names, in the head's output order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Where the run log goes.</summary>
    public TextWriter Log { get; }

    /// <summary>The checkpoint a resumed run continues from (null for a new run).</summary>
    public RunCheckpoint? Resumed { get; }

    /// <summary>The recipe's phases in order ("head", "full").</summary>
    public IReadOnlyList<string> Phases { get; }

    /// <summary>Index of the current phase in <see cref="Phases"/>.</summary>
    public int PhaseIndex { get; internal set; }

    /// <summary>Name of the current phase.</summary>
    public string Phase => Phases[Math.Min(PhaseIndex, Phases.Count - 1)];

    /// <summary>The current epoch's index within its phase (0-based).</summary>
    public int PhaseEpoch { get; internal set; }

    /// <summary>Epochs of the current phase.</summary>
    public int PhaseEpochs { get; internal set; }

    /// <summary>The current epoch's number in the run (1-based; in <see cref="ITrainingCallback.OnEpochEnd"/> the epoch just finished).</summary>
    public int Epoch { get; internal set; }

    /// <summary>Epochs the run would train without a stop, over all phases.</summary>
    public int TotalEpochs { get; }

    /// <summary>Training steps taken in the current phase (the counter dropout masks hash).</summary>
    public long Step { get; internal set; }

    /// <summary>The batch just trained, 1-based within the epoch (in <see cref="ITrainingCallback.OnBatchEnd"/>).</summary>
    public int Batch { get; internal set; }

    /// <summary>Training batches in the current epoch.</summary>
    public int BatchesPerEpoch { get; internal set; }

    /// <summary>The mean loss of the batch just trained (in <see cref="ITrainingCallback.OnBatchEnd"/>).</summary>
    public double BatchLoss { get; internal set; }

    /// <summary>The latest finished epoch's metrics (train_loss, train_accuracy, val_loss, val_accuracy, lr); null before the first.</summary>
    public EpochMetrics? Metrics { get; internal set; }

    /// <summary>The latest epoch's validation pass, per sample (set with <see cref="Metrics"/>).</summary>
    public ValidationPass? Validation { get; internal set; }

    /// <summary>Every finished epoch's metrics, a resumed run's earlier epochs included.</summary>
    public IReadOnlyList<EpochMetrics> History => _history;

    /// <summary>The best epoch so far by the run's monitor (set by <see cref="KeepBestEpoch"/>); null before the first.</summary>
    public BestEpoch? Best { get; internal set; }

    /// <summary>Whether the epoch just finished is the new best (set by <see cref="KeepBestEpoch"/> in <see cref="ITrainingCallback.OnEpochEnd"/>).</summary>
    public bool IsBest { get; internal set; }

    /// <summary>The epoch the latest checkpoint (checkpoints/last.tkc) holds; null before the first is written.</summary>
    public int? LastCheckpointEpoch { get; internal set; }

    /// <summary>Whether a callback asked to end the current phase after this epoch (the next phase, if any, still runs).</summary>
    public bool StopPhaseRequested { get; private set; }

    /// <summary>Whether a callback asked to end the run after this epoch (no further phase runs).</summary>
    public bool StopTrainingRequested { get; private set; }

    /// <summary>Why the phase or the run stops, as the log will say; null while nothing asked.</summary>
    public string? StopReason { get; private set; }

    /// <summary>
    /// Ends the current phase after this epoch; the checkpoint records the phase as finished, so a resume goes on with
    /// the next phase. <see cref="EarlyStopping"/> uses it: in a two-phase recipe the full phase still runs.
    /// </summary>
    public void StopPhase(string reason)
    {
        StopPhaseRequested = true;
        StopReason ??= reason;
    }

    /// <summary>
    /// Ends the run after this epoch: no further epoch or phase trains; the best epoch is still exported. The
    /// checkpoint records the phase as unfinished, so a resume would go on training it.
    /// </summary>
    public void StopTraining(string reason)
    {
        StopTrainingRequested = true;
        StopReason ??= reason;
    }

    /// <summary>Called by the loop as an epoch ends, before the callbacks see it.</summary>
    internal void EndEpoch(EpochMetrics m, ValidationPass? validation)
    {
        Metrics = m;
        Validation = validation;
        _history.Add(m);
        IsBest = false;
    }

    /// <summary>Called by the loop as a phase begins: stops asked in the phase before are spent.</summary>
    internal void BeginPhase(int phaseIndex, int phaseEpochs)
    {
        PhaseIndex = phaseIndex;
        PhaseEpochs = phaseEpochs;
        StopPhaseRequested = false;
        if (!StopTrainingRequested) StopReason = null;
    }
}
