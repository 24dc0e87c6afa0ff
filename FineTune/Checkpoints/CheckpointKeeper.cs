using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// The fine-tune job's side of checkpoints: writing last.tkc (and best.tkc) after an epoch, and opening a run
/// folder to resume — its last checkpoint, its options, and the best epoch's weights.
/// </summary>
public static class CheckpointKeeper
{
    /// <summary>
    /// Writes last.tkc, then, when the epoch is the best so far, best.tkc as a copy of it. In that order a process
    /// killed in between leaves a last.tkc whose best epoch is its own epoch, which <see cref="BestWeights"/> handles.
    /// </summary>
    public static void Save(string runDir, RunCheckpoint state, ComputeGraph graph, bool isBest)
    {
        var last = RunCheckpoint.LastPath(runDir);
        state.Save(last, graph.Parameters);
        if (!isBest) return;
        var best = RunCheckpoint.BestPath(runDir);
        var tmp = best + ".tmp-" + Environment.ProcessId;
        File.Copy(last, tmp, overwrite: true);
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

    /// <summary>The best epoch's weights: last.tkc's own when the last epoch was the best, else best.tkc's.</summary>
    public static Dictionary<Parameter, float[]> BestWeights(string runDir, RunCheckpoint last, ComputeGraph graph)
    {
        var best = last.Best ?? throw new InvalidDataException($"{RunCheckpoint.LastPath(runDir)} records no best epoch.");
        var source = last;
        if (best.Epoch != last.Position.EpochsDone)
        {
            var bestPath = RunCheckpoint.BestPath(runDir);
            source = RunCheckpoint.Load(File.Exists(bestPath) ? bestPath : throw new FileNotFoundException($"The run's best checkpoint {bestPath} is missing.", bestPath));
            if (source.Position.EpochsDone != best.Epoch)
                throw new InvalidDataException($"{bestPath} is from epoch {source.Position.EpochsDone}; the run's best epoch is {best.Epoch}.");
        }
        var file = source.File!;
        var weights = file.ReadParameters();
        return graph.Parameters.ToDictionary(p => p, p => weights.TryGetValue(p.Name, out var t) && t.Length == p.Value.Length
            ? t.Span.ToArray() : throw new InvalidDataException($"{file.Source} has no values for parameter '{p.Name}'."));
    }
}
