using System.Diagnostics;
using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Reporting;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>The result of a run, as written to summary.json.</summary>
public sealed record FineTuneSummary(
    double ValAccuracy, int BestEpoch, int EpochsRun, double WallSeconds, int TrainImages, int ValImages, string[] Classes,
    int SkippedFiles, double ExportParityMaxAbs, string Recipe, bool FeatureCache, string TunedModel)
{
    /// <summary>
    /// Every skipped file with its reason, in ordinal order of path (<see cref="SkippedFiles"/> of them): what the
    /// dataset listing left out and what could not be decoded, carried across resumes.
    /// </summary>
    public IReadOnlyList<SkippedFile> Skipped { get; init; } = [];
}

/// <summary>
/// A fine-tune run: import the model, put a new head on it for the dataset's classes, freeze by recipe, train with
/// augmentation (from a frozen-prefix feature cache when everything before the trainable part is frozen and in
/// inference mode), keep the best epoch, export tuned.onnx and check it against ONNX Runtime before keeping it.
/// After every epoch the run's state goes to checkpoints/last.tkc (and best.tkc when the epoch is the best so far);
/// <see cref="FineTuneOptions.Resume"/> continues a run from last.tkc exactly as if it had not stopped.
/// </summary>
public sealed class FineTuneJob(FineTuneOptions options, TextWriter log)
{
    FineTuneOptions _o = options;
    readonly List<EpochMetrics> _metrics = [];

    /// <summary>Epochs in a row with one class predicted for every validation image before the run warns.</summary>
    const int SinglePredictionEpochs = 3;

    /// <summary>Told every epoch's metrics; returning false ends the run after that epoch (the best epoch is still kept and exported).</summary>
    public Func<EpochMetrics, bool>? ContinueAfterEpoch { get; init; }

    /// <summary>
    /// Told each step of every checkpoint write with the epoch's number (see <see cref="CheckpointKeeper.Save"/>):
    /// the seam kill tests stop a run at; null in normal runs.
    /// </summary>
    public Action<CheckpointStep, int>? CheckpointStop { get; init; }

    /// <summary>
    /// Runs the job holding the run folder's lock (<see cref="RunFolderLock"/>) from before it reads a checkpoint or
    /// writes a file there until it ends; a folder another process holds is an <see cref="IOException"/> naming it.
    /// </summary>
    public FineTuneSummary Run()
    {
        OptionLimits.Check(_o);
        // A resumed run's folder exists: lock it before anything is read from it. A new run's folder is made (and
        // locked) only after the data is opened, since it may sit inside the data folder.
        using var held = _o.Resume is { } dir && Directory.Exists(dir) ? RunFolderLock.Acquire(dir) : null;
        return RunLocked(held);
    }

    FineTuneSummary RunLocked(RunFolderLock? held)
    {
        var wall = Stopwatch.StartNew();
        RunCheckpoint? resume = null;
        if (_o.Resume != null) (resume, _o) = CheckpointKeeper.OpenResume(_o, log);
        if (_o.Threads > 0) Toolkit.Threading.Workers.MaxThreads = _o.Threads;
        // Data (read before the run folder exists, which may sit inside the data folder).
        var (train, val) = JobSetup.OpenData(_o);
        var classes = train.Classes;
        int classCount = JobSetup.ClassCount(train, _o);
        if (resume != null && (!resume.Classes.SequenceEqual(classes.Names) || resume.ClassCount != classCount))
            throw new ArgumentException($"{_o.Data}: the classes ({string.Join(", ", classes.Names)}) are not the ones the run in {_o.Resume} was started with ({string.Join(", ", resume.Classes)}).");
        if (resume == null && File.Exists(RunCheckpoint.LastPath(_o.Out)))
            log.WriteLine($"note: {_o.Out} holds checkpoints of an earlier run; this run replaces them (--resume {_o.Out} would continue it)");
        using var fresh = held == null ? RunFolderLock.Acquire(_o.Out) : null;
        classes.Save(Path.Combine(_o.Out, "classes.json"));

        // Model, head and preprocessing.
        var (model, convention, head, trainPipeline, evalPipeline) = JobSetup.PrepareModel(_o, classCount, log);
        resume?.RestoreParameters(model.Graph.Parameters);
        log.WriteLine($"data: {train.Count} training and {val.Count} validation images in {classes.Count} classes ({string.Join(", ", classes.Names)})");

        var pre = convention.Preprocessing;
        var baked = _o.BakePreprocess ? BakedPreprocessing.From(pre) : null;

        int best = -1; double bestAcc = -1, bestLoss = double.MaxValue;
        int singleEpochs = 0;
        Dictionary<Parameter, float[]>? bestWeights = null;
        ValidationPass? bestValidation = null;
        PhaseTrainer? lastTrainer = null;
        int epoch = 0;
        bool usedCache = false, stopped = false;
        var phases = JobSetup.Phases(_o.Recipe);
        var skipped = SkippedFile.Union(train.ListingSkipped, val.ListingSkipped);
        var progress = Progress.JobProgress.For(log);
        double previousWall = 0;
        var checkImages = SampleFiles(val, Math.Min(_o.Batch, 16));
        if (resume != null)
        {
            _metrics.AddRange(resume.Metrics);
            epoch = resume.Position.EpochsDone;
            usedCache = resume.FeatureCache;
            skipped = SkippedFile.Union(skipped, resume.Skipped);
            previousWall = resume.WallSeconds;
            if (resume.Best != null)
            {
                (var b, bestWeights) = CheckpointKeeper.BestWeights(_o.Out, resume, model.Graph, log);
                (best, bestAcc, bestLoss) = (b.Epoch - 1, b.ValAccuracy, b.ValLoss);
            }
            if (resume.Phases.Length != phases.Length) throw new InvalidDataException($"{RunCheckpoint.LastPath(_o.Out)}: the run has {resume.Phases.Length} phases; recipe {_o.Recipe} has {phases.Length}.");
        }
        string? lastGood = resume != null ? $"epoch {resume.Position.EpochsDone}" : null;
        for (int phaseIndex = resume?.Position.NextPhase ?? 0; phaseIndex < phases.Length; phaseIndex++)
        {
            var phase = phases[phaseIndex];
            var plan = JobSetup.FreezePlanFor(model.Graph, head, phase, _o);
            JobSetup.SeedDropout(model.Graph, _o.Seed, phaseIndex);
            int epochs = EpochsOf(phase, phases.Length);
            float lr = phase == "full" && phases.Length > 1 ? _o.Lr / 10 : _o.Lr;
            var groups = JobSetup.Groups(model.Graph, head, lr, phase == "full" && phases.Length > 1, _o.WeightDecay);
            var optimizer = OptimizerFactory.Create(_o.Optimizer, groups);
            var schedule = OptimizerFactory.CreateSchedule(_o.Schedule, epochs);
            log.WriteLine($"phase {phase}: {epochs} epochs, {_o.Optimizer} lr {lr:G3}, schedule {_o.Schedule}, augment {JobSetup.AugmentLevelFor(_o)}, trainable {model.Graph.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length):N0} parameters, frozen {model.Graph.Parameters.Where(p => !p.Trainable && !p.IsConstant).Sum(p => (long)p.Value.Length):N0}, constants {model.Graph.ConstantCount:N0}");

            lastTrainer?.Dispose();
            var trainer = lastTrainer = new PhaseTrainer(model.Graph, plan, optimizer, schedule, new CrossEntropyLoss(_o.LabelSmoothing), _o, log);
            usedCache |= progress.Run($"feature cache [{phase}]", report => trainer.Prepare(train, val, trainPipeline, evalPipeline, report));
            skipped = SkippedFile.Union(skipped, trainer.Skipped);
            int firstEpoch = 0;
            if (resume != null && phaseIndex == resume.Position.NextPhase && resume.Position.NextPhaseEpoch > 0)
            {
                // Mid-phase: the same freeze plan, the optimizer's moments and step count, the dropout counter.
                firstEpoch = resume.Position.NextPhaseEpoch;
                if (FreezeSnapshot.Of(plan, model.Graph).Difference(resume.Freeze) is { } diff)
                    throw new InvalidDataException($"{RunCheckpoint.LastPath(_o.Out)}: the freeze plan rebuilt from the run's options differs from the saved one: {diff}.");
                optimizer.ImportState(resume.Optimizer ?? throw new InvalidDataException($"{RunCheckpoint.LastPath(_o.Out)} holds no optimizer state."));
                trainer.Step = resume.Position.DropoutStep;
            }
            for (int e = firstEpoch; e < epochs; e++)
            {
                int shown = epoch + 1, of = phases.Sum(p => EpochsOf(p, phases.Length));
                EpochMetrics m;
                try { m = progress.Run($"epoch {shown}/{of} [{phase}]", report => trainer.Epoch(e, epoch, epochs, report)); }
                catch (ArithmeticException x)
                {
                    throw new ArithmeticException(x.Message + (lastGood != null
                        ? $" The run stopped; its last good checkpoint ({lastGood}) is kept in {RunCheckpoint.LastPath(_o.Out)} (transferkit export turns a checkpoint into ONNX)."
                        : " The run stopped before its first checkpoint."), x);
                }
                if (!double.IsFinite(m.ValLoss))
                    throw new ArithmeticException($"The validation loss became {m.ValLoss} at epoch {epoch + 1}; lower the learning rate (--lr). The run stopped; "
                        + (lastGood != null ? $"its last good checkpoint ({lastGood}) is kept in {RunCheckpoint.LastPath(_o.Out)}." : "no checkpoint was written."));
                _metrics.Add(m);
                bool go = ContinueAfterEpoch?.Invoke(m) ?? true;
                bool improved = m.ValAccuracy > bestAcc || (m.ValAccuracy == bestAcc && m.ValLoss < bestLoss);
                if (improved)
                {
                    bestAcc = m.ValAccuracy; bestLoss = m.ValLoss; best = epoch;
                    bestWeights = model.Graph.Parameters.ToDictionary(p => p, p => p.Value.Span.ToArray());
                    bestValidation = trainer.LastValidation;
                }
                bool earlyStop = !improved && _o.EarlyStop > 0 && epoch - best >= _o.EarlyStop;
                epoch++;
                bool phaseOver = earlyStop || e + 1 == epochs;
                skipped = SkippedFile.Union(skipped, trainer.Skipped);
                CheckpointKeeper.Save(_o.Out, new RunCheckpoint
                {
                    Options = ResumeOptions.Normalize(_o), Classes = classes.Names.ToArray(), ClassCount = classCount, Phases = phases,
                    Position = new RunPosition(phaseIndex, e + 1, epoch, phaseOver ? phaseIndex + 1 : phaseIndex, phaseOver ? 0 : e + 1, trainer.Step),
                    Freeze = FreezeSnapshot.Of(plan, model.Graph), Best = new BestEpoch(best + 1, bestAcc, bestLoss), Metrics = [.. _metrics],
                    FeatureCache = usedCache, SkippedFiles = skipped.Count, Skipped = [.. skipped], WallSeconds = previousWall + wall.Elapsed.TotalSeconds,
                    CheckImages = checkImages.Select(Path.GetFullPath).ToArray(), Optimizer = optimizer.ExportState(),
                }, model.Graph, improved, CheckpointStop);
                lastGood = $"epoch {epoch}";
                WriteMetrics();
                log.WriteLine($"epoch {epoch,3}/{of} [{phase}]  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P1}  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P1}  lr {m.LearningRate:G3}  {m.Seconds:F1}s");
                int? single = trainer.LastValidation?.SinglePrediction();
                singleEpochs = single == null ? 0 : singleEpochs + 1;
                if (singleEpochs == SinglePredictionEpochs)
                    log.WriteLine($"warning: every validation image has been predicted as '{classes.Names[single!.Value]}' for {SinglePredictionEpochs} epochs: the model is not using its input "
                        + "(when a ReLU follows the head, as in SqueezeNet, it can die at a high learning rate and pass no gradient); a lower --lr usually avoids it");
                if (earlyStop)
                {
                    log.WriteLine($"early stop: no better validation accuracy for {_o.EarlyStop} epochs");
                    break;
                }
                if (!go)
                {
                    log.WriteLine($"stopped by the caller after epoch {epoch}");
                    stopped = true;
                    break;
                }
            }
            if (stopped) break;
        }

        // Keep the best epoch's weights, restore the softmax, export and check.
        if (bestWeights != null) foreach (var (p, w) in bestWeights) w.CopyTo(p.Value.Span);
        // A resumed run whose best epoch came before the stop validates the best weights again for the report.
        if (bestValidation == null && bestWeights != null) bestValidation = lastTrainer?.Validate();
        lastTrainer?.Dispose();
        var tuned = Path.Combine(_o.Out, "tuned.onnx");
        var exporter = new RunExporter { Model = model, Head = head, Labels = classes.Names, Preprocessing = pre, BaseModel = _o.Model };
        var check = exporter.Export(tuned, [ValidationBatch(val, evalPipeline, Math.Min(_o.Batch, 16))],
            new ExportOptions { FoldBatchNorm = _o.FoldBn, BakePreprocess = baked });
        log.WriteLine($"exported {tuned}: ONNX Runtime agrees within 1e-5 + 1e-4·|x| (max_abs {check.MaxAbs:E2}); weights round-trip");

        var summary = new FineTuneSummary(bestAcc, best + 1, _metrics.Count, previousWall + wall.Elapsed.TotalSeconds, train.Count, val.Count, classes.Names.ToArray(),
            skipped.Count, check.MaxAbs, _o.Recipe, usedCache, tuned) { Skipped = skipped };
        WriteAtomically(Path.Combine(_o.Out, "summary.json"), JsonSerializer.Serialize(new
        {
            val_accuracy = summary.ValAccuracy,
            best_epoch = summary.BestEpoch,
            epochs_run = summary.EpochsRun,
            wall_seconds = summary.WallSeconds,
            train_images = summary.TrainImages,
            val_images = summary.ValImages,
            classes = summary.Classes,
            skipped_files = summary.SkippedFiles,
            skipped = summary.Skipped.Select(f => f.RelativeTo(_o.Data)).Select(f => new { path = f.Path, reason = f.Reason }),
            export_parity_max_abs = summary.ExportParityMaxAbs,
            recipe = summary.Recipe,
            feature_cache = summary.FeatureCache,
            tuned_model = summary.TunedModel,
        }, new JsonSerializerOptions { WriteIndented = true }));
        var report = RunReport.Write(_o.Out, new ReportData(summary, _o, _metrics, bestValidation, val, pre));
        log.Write(SkippedFile.ConsoleListing(summary.Skipped, relativeTo: _o.Data));
        log.WriteLine($"report: {report.Html}");
        return summary;
    }

    /// <summary>Epochs of a phase: all of --epochs for a one-phase recipe; two-phase gives the head half of them and the full phase the rest.</summary>
    int EpochsOf(string phase, int phaseCount) =>
        phaseCount == 1 ? _o.Epochs : phase == "head" ? Math.Max(1, _o.Epochs / 2) : Math.Max(1, _o.Epochs - _o.Epochs / 2);

    /// <summary>The first validation batch, preprocessed as in training (the export check's input).</summary>
    static Tensor ValidationBatch(ImageDataset val, TransformPipeline evalPipeline, int count)
    {
        using var loader = new DataLoader(val, evalPipeline, new DataLoaderOptions { BatchSize = count, Shuffle = false, Seed = 0 });
        foreach (var b in loader.Epoch(0)) return b.Images.Clone();
        throw new InvalidOperationException("The validation set has no readable image to check the export with.");
    }

    /// <summary>Up to <paramref name="count"/> validation image files (none for datasets not read from files), saved with checkpoints for the export verb's check.</summary>
    static IReadOnlyList<string> SampleFiles(ImageDataset ds, int count) =>
        Enumerable.Range(0, ds.Count).Select(i => ds.GetSource(i).Path).Where(p => p != null).Take(count).ToList()!;

    void WriteMetrics() =>
        WriteAtomically(Path.Combine(_o.Out, "metrics.csv"), EpochMetrics.CsvHeader + "\n" + string.Join("\n", _metrics.Select(m => m.ToCsv())) + "\n");

    internal static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
