using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>The points of <see cref="CheckpointKeeper.Save"/>'s write sequence, in order (where a test stops a run).</summary>
public enum CheckpointStep
{
    /// <summary>last.tkc's temporary file is complete; last.tkc is still the previous epoch's.</summary>
    LastWritten,
    /// <summary>last.tkc is this epoch's.</summary>
    LastReplaced,
    /// <summary>A new best: best.tkc's temporary file is complete; best.tkc is still the previous best.</summary>
    BestWritten,
    /// <summary>A new best: best.tkc is this epoch's.</summary>
    BestReplaced,
}

/// <summary>
/// The fine-tune job's side of checkpoints: writing last.tkc (and best.tkc) after an epoch, and opening a run
/// folder to resume — its last checkpoint, its options, and the best epoch's weights.
/// </summary>
/// <remarks>
/// The pair keeps one invariant at every instant: <b>last.tkc's best epoch is its own epoch, or best.tkc holds that
/// best epoch</b>. <see cref="Save"/> writes a new best into last.tkc first (its best epoch is then its own), then
/// copies it to best.tkc; a last.tkc whose best epoch is an earlier one is only written once best.tkc holds that
/// epoch. A process killed between the two writes leaves a last.tkc that is its own best and an older best.tkc;
/// <see cref="BestWeights"/>, which every resume calls before it trains, copies last.tkc to best.tkc then, so the
/// next epoch cannot overwrite the only copy of the best weights.
/// </remarks>
public static class CheckpointKeeper
{
    /// <summary>
    /// Writes last.tkc, then, when the epoch is the best so far, best.tkc as a copy of it (see the class remarks for
    /// why in that order). <paramref name="stop"/>, when given, is told each <see cref="CheckpointStep"/> as it is
    /// reached with the epoch's number (a seam for kill tests; it may end the process).
    /// </summary>
    public static void Save(string runDir, RunCheckpoint state, ComputeGraph graph, bool isBest, Action<CheckpointStep, int>? stop = null)
    {
        int epoch = state.Position.EpochsDone;
        var last = RunCheckpoint.LastPath(runDir);
        state.Save(last, graph.Parameters, _ => stop?.Invoke(CheckpointStep.LastWritten, epoch));
        stop?.Invoke(CheckpointStep.LastReplaced, epoch);
        if (!isBest) return;
        CopyToBest(runDir, () => stop?.Invoke(CheckpointStep.BestWritten, epoch));
        stop?.Invoke(CheckpointStep.BestReplaced, epoch);
    }

    /// <summary>Replaces best.tkc by a copy of last.tkc, atomically (temporary file, flushed, renamed).</summary>
    static void CopyToBest(string runDir, Action? beforeReplace = null)
    {
        var best = RunCheckpoint.BestPath(runDir);
        var tmp = best + ".tmp-" + Environment.ProcessId;
        File.Copy(RunCheckpoint.LastPath(runDir), tmp, overwrite: true);
        using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite)) fs.Flush(flushToDisk: true);
        beforeReplace?.Invoke();
        File.Move(tmp, best, overwrite: true);
    }

    /// <summary>
    /// Opens the run in <paramref name="given"/>.<see cref="FineTuneOptions.Resume"/>: checks the given options against
    /// the saved ones, clears temporaries a killed process left, and returns the last checkpoint with the options to
    /// run with (the saved ones, in the resumed folder, with the given thread count when there is one).
    /// </summary>
    public static (RunCheckpoint Last, FineTuneOptions Options) OpenResume(FineTuneOptions given, TextWriter log)
    {
        var dir = given.Resume ?? throw new ArgumentException("No run folder to resume.");
        var saved = ResumeOptions.Load(dir);
        var conflicts = ResumeOptions.Conflicts(given, saved);
        if (conflicts.Count > 0)
            throw new ArgumentException($"Resuming {dir}: {string.Join("; ", conflicts)}. A resumed run continues with the options it was started with; leave these out or give the saved values.");
        RunCheckpoint.RemoveStaleTemporaries(dir);
        var last = RunCheckpoint.Load(RunCheckpoint.LastPath(dir));
        var p = last.Position;
        log.WriteLine(p.NextPhase >= last.Phases.Length
            ? $"resuming {dir}: training finished at epoch {p.EpochsDone}; exporting"
            : $"resuming {dir} after epoch {p.EpochsDone} ({last.Phases[p.Phase]} phase, epoch {p.PhaseEpochsDone}) from {RunCheckpoint.LastPath(dir)}");
        return (last, saved with { Threads = given.Threads > 0 ? given.Threads : saved.Threads });
    }

    /// <summary>
    /// The best epoch and its weights for a resumed run: last.tkc's own when the last epoch was the best (best.tkc is
    /// then made a copy of it when it is not one already), else best.tkc's. A run whose best epoch is in neither file
    /// (left so by an older build, or best.tkc deleted or damaged) still finishes: with a warning, its best epoch
    /// becomes the better of the two checkpoints that exist, by the run's metrics and <paramref name="monitor"/>
    /// (default: <see cref="Callbacks.MetricMonitor.Default"/>).
    /// </summary>
    public static (BestEpoch Best, Dictionary<Parameter, float[]> Weights) BestWeights(string runDir, RunCheckpoint last, ComputeGraph graph, TextWriter log,
        Callbacks.MetricMonitor? monitor = null)
    {
        monitor ??= Callbacks.MetricMonitor.Default;
        var best = last.Best ?? throw new InvalidDataException($"{RunCheckpoint.LastPath(runDir)} records no best epoch.");
        int lastEpoch = last.Position.EpochsDone;
        var bestPath = RunCheckpoint.BestPath(runDir);
        RunCheckpoint? saved = null;
        string? unreadable = null;
        if (File.Exists(bestPath))
        {
            try { saved = RunCheckpoint.Load(bestPath); }
            catch (InvalidDataException e) { unreadable = e.Message; }
        }
        else unreadable = $"{bestPath} is missing";
        // best.tkc counts only when it is an epoch of this run: its metrics history is a prefix of last.tkc's.
        bool FromThisRun(RunCheckpoint c) => c.Position.EpochsDone <= lastEpoch && c.Metrics.Length == c.Position.EpochsDone
                                             && c.Metrics.AsSpan().SequenceEqual(last.Metrics.AsSpan(0, Math.Min(c.Metrics.Length, last.Metrics.Length)));
        bool savedIsBest = saved != null && saved.Position.EpochsDone == best.Epoch && FromThisRun(saved);

        if (best.Epoch == lastEpoch)
        {
            if (!savedIsBest) CopyToBest(runDir);   // killed between last.tkc and best.tkc: complete the pair
            return (best, WeightsOf(last, graph));
        }
        if (savedIsBest) return (best, WeightsOf(saved!, graph));

        // The best epoch's weights are in no file. Keep the better of what exists, so the run can finish.
        var why = unreadable ?? $"{bestPath} is from epoch {saved!.Position.EpochsDone}" + (FromThisRun(saved) ? "" : " of another run");
        var candidates = new List<RunCheckpoint> { last };
        if (saved != null && FromThisRun(saved) && saved.Position.EpochsDone >= 1) candidates.Add(saved);
        var chosen = candidates.Aggregate((better, c) => monitor.Improves(Metric(c), Metric(better)) ? c : better);
        var m = Metric(chosen);
        var substitute = new BestEpoch(chosen.Position.EpochsDone, m.ValAccuracy, m.ValLoss);
        log.WriteLine($"warning: the weights of the run's best epoch {best.Epoch} are in no checkpoint ({why}); "
                      + $"the run continues with epoch {substitute.Epoch} (val acc {substitute.ValAccuracy:P1}) as its best so far");
        if (ReferenceEquals(chosen, last)) CopyToBest(runDir);
        return (substitute, WeightsOf(chosen, graph));

        EpochMetrics Metric(RunCheckpoint c) => last.Metrics[c.Position.EpochsDone - 1];
    }

    static Dictionary<Parameter, float[]> WeightsOf(RunCheckpoint source, ComputeGraph graph)
    {
        var file = source.File!;
        var weights = file.ReadParameters();
        return graph.Parameters.ToDictionary(p => p, p => weights.TryGetValue(p.Name, out var t) && t.Length == p.Value.Length
            ? t.Span.ToArray() : throw new InvalidDataException($"{file.Source} has no values for parameter '{p.Name}'."));
    }
}
