using System.Diagnostics;
using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Tuning;

/// <summary>
/// Hyperparameter search over fine-tune jobs: asks the sampler for a configuration, runs it as a
/// <see cref="FineTuneJob"/> in its own folder (trial-000/, trial-001/, … with config.json and train.log beside the
/// job's files), lets the pruning rule stop it after any epoch but the last, and after every trial rewrites
/// trials.csv and best.json (the best configuration as a <c>finetune --config</c> file whose run folder is best/).
/// Every trial trains with the same seed, so trials differ only in their hyperparameters.
/// A trial whose loss diverges is recorded as failed and the search goes on; other errors end the search.
/// </summary>
public sealed class Tuner
{
    readonly FineTuneOptions _base;
    readonly SearchSpace _space;
    readonly ISampler _sampler;
    readonly ITrialPruner? _pruner;
    readonly string _out;
    readonly int _trials;
    readonly TextWriter _console;

    /// <param name="baseOptions">The settings every trial shares (model, data, epochs, seed, limits, …); its Out is ignored.</param>
    /// <param name="outFolder">The tune folder.</param>
    /// <param name="trials">At most this many trials (fewer when a grid runs out).</param>
    /// <param name="console">Where the one-line-per-trial progress goes (each job's own log goes to its train.log).</param>
    public Tuner(FineTuneOptions baseOptions, SearchSpace space, ISampler sampler, ITrialPruner? pruner, string outFolder, int trials, TextWriter console)
    {
        if (trials < 1) throw new ArgumentException("A search needs at least one trial.");
        _base = baseOptions with
        {
            Model = Path.GetFullPath(baseOptions.Model),
            Data = Path.GetFullPath(baseOptions.Data),
            Val = baseOptions.Val == null ? null : Path.GetFullPath(baseOptions.Val),
        };
        _space = space; _sampler = sampler; _pruner = pruner;
        _out = Path.GetFullPath(outFolder);
        _trials = trials; _console = console;
    }

    public static string TrialFolderName(int number) => $"trial-{number:000}";

    public TuneResult Run()
    {
        // One search per folder: a second tune (or a finetune) into it is refused naming this process.
        using var held = Checkpoints.RunFolderLock.Acquire(_out);
        if (Directory.Exists(_out) && Directory.EnumerateDirectories(_out, "trial-*").Any())
            throw new IOException($"{_out} already holds trial folders from an earlier search; give a new --out (or remove them).");
        if (!File.Exists(_base.Model)) throw new FileNotFoundException($"Model file '{_base.Model}' does not exist.", _base.Model);
        var model = OnnxImporter.Import(_base.Model);
        var depth = new FreezeDepth(model.Graph, Head.Find(model.Graph, _base.Head));
        if (_space.Find(FineTuneSpace.Depth) is CategoricalDimension depths)
            foreach (var d in depths.Choices) depth.Validate(d);
        Directory.CreateDirectory(_out);
        var csv = Path.Combine(_out, "trials.csv");
        var bestJson = Path.Combine(_out, "best.json");
        _console.WriteLine($"tune: {_trials} trials of up to {_base.Epochs} epochs; space {_space.Describe()}; early stop {_pruner?.Describe() ?? "off"}");

        var records = new List<TrialRecord>();
        var optionsOf = new Dictionary<TrialRecord, FineTuneOptions>();
        string? written = null;
        for (int n = 0; n < _trials; n++)
        {
            var sampled = _sampler.Next(records.Select(r => r.ToObservation()).ToList());
            if (sampled == null) break;
            var config = FineTuneSpace.Round(sampled);
            var folder = Path.Combine(_out, TrialFolderName(n));
            var options = FineTuneSpace.Apply(config, _base with { Out = folder }, depth);
            var record = RunTrial(n, config, options, records);
            records.Add(record);
            optionsOf[record] = options;
            _console.WriteLine($"trial {n} ({n + 1}/{_trials})  {config.Describe(_space)}  →  {Outcome(record)}  {record.Seconds:F1}s");

            FineTuneJob.WriteAtomically(csv, TrialTable.ToCsv(_space, records));
            if (TrialRecord.Best(records) is { } best)
            {
                FineTuneConfigFile.Write(bestJson, optionsOf[best] with { Out = Path.Combine(_out, "best") });
                written = bestJson;
            }
        }
        return new TuneResult(records, TrialRecord.Best(records), csv, written);
    }

    TrialRecord RunTrial(int number, Configuration config, FineTuneOptions options, IReadOnlyList<TrialRecord> earlier)
    {
        Directory.CreateDirectory(options.Out);
        FineTuneConfigFile.Write(Path.Combine(options.Out, "config.json"), options);
        var earlierCurves = earlier.Where(t => t.Status != TrialStatus.Failed).Select(t => t.Curve).ToArray();
        var metrics = new List<EpochMetrics>();
        var curve = new List<double>();
        bool pruned = false;
        var clock = Stopwatch.StartNew();
        using var log = new StreamWriter(Path.Combine(options.Out, "train.log")) { AutoFlush = true };
        var job = new FineTuneJob(options, log)
        {
            ContinueAfterEpoch = m =>
            {
                metrics.Add(m);
                curve.Add(m.ValAccuracy);
                if (_pruner == null || metrics.Count >= options.Epochs) return true;
                pruned = _pruner.ShouldStop(curve, earlierCurves);
                if (pruned) log.WriteLine($"pruned after epoch {metrics.Count}: {_pruner.Describe()}");
                return !pruned;
            },
        };
        try
        {
            var summary = job.Run();
            var at = summary.BestEpoch >= 1 && summary.BestEpoch <= metrics.Count ? metrics[summary.BestEpoch - 1] : null;
            return new TrialRecord(number, config, pruned ? TrialStatus.Pruned : TrialStatus.Complete, summary.ValAccuracy, at?.ValLoss ?? double.NaN,
                summary.BestEpoch, metrics.Count, clock.Elapsed.TotalSeconds, options.Out, curve, null);
        }
        catch (Exception e) when (e is ArithmeticException or InsufficientMemoryException)
        {
            log.WriteLine($"failed: {e.Message}");
            return new TrialRecord(number, config, TrialStatus.Failed, double.NaN, double.NaN, 0, metrics.Count, clock.Elapsed.TotalSeconds, options.Out, curve, e.Message);
        }
    }

    static string Outcome(TrialRecord r) => r.Status switch
    {
        TrialStatus.Failed => $"failed: {r.Error}",
        TrialStatus.Pruned => $"val {r.ValAccuracy:P1}, pruned after {r.EpochsRun} epoch{(r.EpochsRun == 1 ? "" : "s")}",
        _ => $"val {r.ValAccuracy:P1} (epoch {r.BestEpoch} of {r.EpochsRun})",
    };
}
