using System.Diagnostics;
using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Callbacks;
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
/// <remarks>
/// The loop here is resume, phases and epochs; what happens around an epoch — the NaN stop, the best epoch, early
/// stopping, the checkpoints, metrics.csv, the log line, the dead-head warning — is done by training callbacks
/// (<see cref="ITrainingCallback"/>), to which <see cref="Callbacks"/> adds a caller's. The library's
/// <c>TransferKit.Learner</c> runs this job too.
/// </remarks>
public sealed class FineTuneJob(FineTuneOptions options, TextWriter log)
{
    FineTuneOptions _o = options;
    IReadOnlyList<EpochMetrics> _metrics = [];

    /// <summary>Epochs in a row with one class predicted for every validation image before the run warns.</summary>
    const int SinglePredictionEpochs = 3;

    /// <summary>Told every epoch's metrics; returning false ends the run after that epoch (the best epoch is still kept and exported).</summary>
    public Func<EpochMetrics, bool>? ContinueAfterEpoch { get; init; }

    /// <summary>
    /// Callbacks run with the job's own (<see cref="TerminateOnNaN"/>, <see cref="KeepBestEpoch"/>, <see cref="EarlyStopping"/>
    /// when <see cref="FineTuneOptions.EarlyStop"/> is set, the checkpoints, metrics.csv, the log), in
    /// <see cref="ITrainingCallback.Order"/>: e.g. an <see cref="EarlyStopping"/> of a library user's own.
    /// </summary>
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = [];

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

        var phases = JobSetup.Phases(_o.Recipe);
        int total = phases.Sum(p => EpochsOf(p, phases.Length));
        var ctx = new TrainingContext(_o.Out, model.Graph, classes.Names, phases, total, log, resume);
        PhaseTrainer? lastTrainer = null;
        FreezePlan? plan = null;
        Optimizer? optimizer = null;
        int epoch = 0;
        bool usedCache = false;
        var skipped = SkippedFile.Union(train.ListingSkipped, val.ListingSkipped);
        var progress = Progress.JobProgress.For(log);
        double previousWall = 0;
        var checkImages = SampleFiles(val, Math.Min(_o.Batch, 16));
        if (resume != null)
        {
            epoch = resume.Position.EpochsDone;
            usedCache = resume.FeatureCache;
            skipped = SkippedFile.Union(skipped, resume.Skipped);
            previousWall = resume.WallSeconds;
            if (resume.Phases.Length != phases.Length) throw new InvalidDataException($"{RunCheckpoint.LastPath(_o.Out)}: the run has {resume.Phases.Length} phases; recipe {_o.Recipe} has {phases.Length}.");
        }
        // The run's own behaviours are callbacks; the caller's join them (ordered by ITrainingCallback.Order).
        var monitor = new MetricMonitor(_o.EarlyStopMonitor, _o.EarlyStopMode, _o.MinDelta);
        var keeper = new KeepBestEpoch(monitor);
        var callbacks = new List<ITrainingCallback> { new TerminateOnNaN(), keeper };
        if (_o.EarlyStop > 0) callbacks.Add(new EarlyStopping(_o.EarlyStop, monitor));
        if (ContinueAfterEpoch is { } proceed)
            callbacks.Add(new LambdaCallback(onEpochEnd: c => { if (!proceed(c.Metrics!)) c.StopTraining($"stopped by the caller after epoch {c.Epoch}"); }));
        callbacks.AddRange(Callbacks);
        callbacks.Add(new ModelCheckpoint((c, phaseOver) => new RunCheckpoint
        {
            Options = ResumeOptions.Normalize(_o), Classes = classes.Names.ToArray(), ClassCount = classCount, Phases = phases,
            Position = new RunPosition(c.PhaseIndex, c.PhaseEpoch + 1, c.Epoch, phaseOver ? c.PhaseIndex + 1 : c.PhaseIndex, phaseOver ? 0 : c.PhaseEpoch + 1, c.Step),
            Freeze = FreezeSnapshot.Of(plan!, model.Graph), Best = c.Best, Metrics = [.. c.History],
            FeatureCache = usedCache, SkippedFiles = skipped.Count, Skipped = [.. skipped], WallSeconds = previousWall + wall.Elapsed.TotalSeconds,
            CheckImages = checkImages.Select(Path.GetFullPath).ToArray(), Optimizer = optimizer!.ExportState(),
        }, CheckpointStop));
        callbacks.Add(new CsvLogger(Path.Combine(_o.Out, "metrics.csv")));
        callbacks.Add(new EpochLog());
        callbacks.Add(new SinglePredictionWarning(SinglePredictionEpochs));
        var run = new CallbackList(callbacks);

        run.TrainBegin(ctx);
        for (int phaseIndex = resume?.Position.NextPhase ?? 0; phaseIndex < phases.Length; phaseIndex++)
        {
            var phase = phases[phaseIndex];
            plan = JobSetup.FreezePlanFor(model.Graph, head, phase, _o);
            JobSetup.SeedDropout(model.Graph, _o.Seed, phaseIndex);
            int epochs = EpochsOf(phase, phases.Length);
            float lr = phase == "full" && phases.Length > 1 ? _o.Lr / 10 : _o.Lr;
            var groups = JobSetup.Groups(model.Graph, head, lr, phase == "full" && phases.Length > 1, _o.WeightDecay);
            optimizer = OptimizerFactory.Create(_o.Optimizer, groups);
            var schedule = OptimizerFactory.CreateSchedule(_o.Schedule, epochs);
            log.WriteLine($"phase {phase}: {epochs} epochs, {_o.Optimizer} {Rates(groups)}, schedule {_o.Schedule}, augment {JobSetup.AugmentLevelFor(_o)}, trainable {model.Graph.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length):N0} parameters, frozen {model.Graph.Parameters.Where(p => !p.Trainable && !p.IsConstant).Sum(p => (long)p.Value.Length):N0}, constants {model.Graph.ConstantCount:N0}");

            lastTrainer?.Dispose();
            var trainer = lastTrainer = new PhaseTrainer(model.Graph, plan, optimizer, schedule, new CrossEntropyLoss(_o.LabelSmoothing), TrainerSettings.From(_o), log);
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
            ctx.BeginPhase(phaseIndex, epochs);
            ctx.Step = trainer.Step;
            for (int e = firstEpoch; e < epochs; e++)
            {
                ctx.PhaseEpoch = e;
                ctx.Epoch = epoch + 1;
                run.EpochBegin(ctx);
                var m = progress.Run($"epoch {epoch + 1}/{total} [{phase}]", report => trainer.Epoch(e, epoch, epochs, report, (b, count, loss) =>
                {
                    ctx.Batch = b; ctx.BatchesPerEpoch = count; ctx.BatchLoss = loss; ctx.Step = trainer.Step;
                    run.BatchEnd(ctx);
                }));
                epoch++;
                ctx.Step = trainer.Step;
                ctx.EndEpoch(m, trainer.LastValidation);
                skipped = SkippedFile.Union(skipped, trainer.Skipped);
                // Best epoch, stops, then the checkpoint (last.tkc, best.tkc), metrics.csv, the log line and warnings.
                run.EpochEnd(ctx);
                if (ctx.StopPhaseRequested || ctx.StopTrainingRequested)
                {
                    log.WriteLine(ctx.StopReason);
                    break;
                }
            }
            if (ctx.StopTrainingRequested) break;
        }
        // Puts the best epoch's weights back (KeepBestEpoch), then the softmax is restored, the model exported and checked.
        run.TrainEnd(ctx);
        _metrics = ctx.History;
        int best = (ctx.Best?.Epoch ?? 0) - 1;
        double bestAcc = ctx.Best?.ValAccuracy ?? -1;
        // A resumed run whose best epoch came before the stop validates the best weights again for the report.
        var bestValidation = keeper.BestValidation ?? (keeper.HasBest ? lastTrainer?.Validate() : null);
        lastTrainer?.Dispose();
        // The report's pictures render on another thread while the model is exported and checked (the two are mostly
        // single-threaded start-up work: chart and PNG code, the ONNX writer and ONNX Runtime's session).
        var charts = Task.Run(() => RunReport.Render(_metrics, best + 1, bestValidation, n => ReportData.ClassNamesOf(classes.Names, n), val, pre));
        var tuned = Path.Combine(_o.Out, "tuned.onnx");
        var exporter = new RunExporter { Model = model, Head = head, Labels = classes.Names, Preprocessing = pre, BaseModel = _o.Model };
        var check = exporter.Export(tuned, [ValidationBatch(val, evalPipeline, Math.Min(_o.Batch, 16))],
            new ExportOptions { FoldBatchNorm = _o.FoldBn, BakePreprocess = baked });
        log.WriteLine($"exported {tuned}: ONNX Runtime agrees within 1e-5 + 1e-4·|x| (max_abs {Reporting.Numbers.Fixed(check.MaxAbs)}); weights round-trip");

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
        var report = RunReport.Write(_o.Out, new ReportData(summary, _o, _metrics, bestValidation, val, pre), charts.GetAwaiter().GetResult());
        log.Write(SkippedFile.ConsoleListing(summary.Skipped, relativeTo: _o.Data));
        log.WriteLine($"report: {report.Html}");
        return summary;
    }

    /// <summary>"lr 0.001" when every parameter group trains at one rate, else each group's ("head lr 0.001, body lr 0.0001": discriminative rates).</summary>
    static string Rates(IReadOnlyList<ParameterGroup> groups) =>
        groups.Select(g => g.LearningRate).Distinct().Count() <= 1
            ? $"lr {Reporting.Numbers.Fixed(groups.Count > 0 ? groups[0].LearningRate : 0)}"
            : string.Join(", ", groups.Select(g => $"{g.Name} lr {Reporting.Numbers.Fixed(g.LearningRate)}"));

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

    internal static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
