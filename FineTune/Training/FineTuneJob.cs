using System.Diagnostics;
using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
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
    int SkippedFiles, double ExportParityMaxAbs, string Recipe, bool FeatureCache, string TunedModel);

/// <summary>
/// A fine-tune run: import the model, put a new head on it for the dataset's classes, freeze by recipe, train with
/// augmentation (from a frozen-prefix feature cache when everything before the trainable part is frozen and in
/// inference mode), keep the best epoch, export tuned.onnx and check it against ONNX Runtime before keeping it.
/// </summary>
public sealed class FineTuneJob(FineTuneOptions options, TextWriter log)
{
    readonly FineTuneOptions _o = options;
    readonly List<EpochMetrics> _metrics = [];

    /// <summary>Told every epoch's metrics; returning false ends the run after that epoch (the best epoch is still kept and exported).</summary>
    public Func<EpochMetrics, bool>? ContinueAfterEpoch { get; init; }

    public FineTuneSummary Run()
    {
        var wall = Stopwatch.StartNew();
        if (_o.Threads > 0) Toolkit.Threading.Workers.MaxThreads = _o.Threads;
        // Data (read before the run folder exists, which may sit inside the data folder).
        var (train, val) = OpenData();
        var classes = train.Classes;
        if (classes.Count < 2) throw new ArgumentException($"{_o.Data}: the dataset has {classes.Count} class; fine-tuning a classifier needs at least two.");
        var empty = classes.Names.Where((_, i) => train.CountPerClass()[i] == 0).ToList();
        if (empty.Count > 0) throw new ArgumentException($"{_o.Data}: class folder(s) {string.Join(", ", empty)} hold no training images.");
        int classCount = _o.Classes == "auto" ? classes.Count : int.Parse(_o.Classes, System.Globalization.CultureInfo.InvariantCulture);
        if (classCount < classes.Count) throw new ArgumentException($"--classes {classCount} is fewer than the {classes.Count} classes in {_o.Data}.");
        Directory.CreateDirectory(_o.Out);
        classes.Save(Path.Combine(_o.Out, "classes.json"));

        // Model, head and preprocessing.
        var model = OnnxImporter.Import(_o.Model);
        var convention = InputConvention.For(model, _o.Preprocess);
        if (convention.Layout != "NCHW") throw new NotSupportedException($"{_o.Model}: fine-tuning models with {convention.Layout} input is not supported yet.");
        var head = Head.Find(model.Graph, _o.Head);
        head.Replace(classCount, _o.HeadInit, _o.Seed);
        Head.SetAsideSoftmax(model.Graph, head);
        log.WriteLine($"model {Path.GetFileName(_o.Model)}: head {head.Node.Name} ({head.Node.Op.Type}) → {classCount} classes; preprocessing {convention.Preprocessing.Name}");
        log.WriteLine($"data: {train.Count} training and {val.Count} validation images in {classes.Count} classes ({string.Join(", ", classes.Names)})");

        var pre = convention.Preprocessing;
        var trainPipeline = _o.Augment.Contains('(') ? TransformPipeline.Parse(_o.Augment) : AugmentLevels.Get(_o.Augment, pre.CropSize, pre);
        var evalPipeline = pre.EvaluationPipeline();

        int best = -1; double bestAcc = -1, bestLoss = double.MaxValue;
        Dictionary<Parameter, float[]>? bestWeights = null;
        int epoch = 0;
        bool usedCache = false, stopped = false;
        var phases = _o.Recipe switch
        {
            "head" => new[] { "head" },
            "full" => ["full"],
            "two-phase" => ["head", "full"],
            _ => throw new ArgumentException($"Unknown recipe '{_o.Recipe}' (head, full, two-phase)."),
        };
        int skipped = 0;
        var progress = Progress.JobProgress.For(log);
        foreach (var phase in phases)
        {
            var plan = FreezePlan.ForPhase(model.Graph, phase, head.Nodes, _o.Bn, _o.Freeze, _o.Unfreeze);
            int epochs = phases.Length == 1 ? _o.Epochs : phase == "head" ? Math.Max(1, _o.Epochs / 2) : Math.Max(1, _o.Epochs - _o.Epochs / 2);
            float lr = phase == "full" && phases.Length > 1 ? _o.Lr / 10 : _o.Lr;
            var groups = Groups(model.Graph, head, lr, phase == "full" && phases.Length > 1, _o.WeightDecay);
            var optimizer = OptimizerFactory.Create(_o.Optimizer, groups);
            var schedule = OptimizerFactory.CreateSchedule(_o.Schedule, epochs);
            log.WriteLine($"phase {phase}: {epochs} epochs, {_o.Optimizer} lr {lr:G3}, schedule {_o.Schedule}, trainable {model.Graph.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length):N0} parameters");

            var trainer = new PhaseTrainer(model.Graph, plan, optimizer, schedule, new CrossEntropyLoss(_o.LabelSmoothing), _o, log);
            usedCache |= progress.Run($"feature cache [{phase}]", report => trainer.Prepare(train, val, trainPipeline, evalPipeline, report));
            skipped = Math.Max(skipped, trainer.Skipped);
            for (int e = 0; e < epochs; e++, epoch++)
            {
                int shown = epoch + 1, of = phases.Length == 1 ? _o.Epochs : epochs;
                var m = progress.Run($"epoch {shown}/{of} [{phase}]", report => trainer.Epoch(e, epoch, epochs, report));
                _metrics.Add(m);
                log.WriteLine($"epoch {epoch + 1,3}/{(phases.Length == 1 ? _o.Epochs : epochs)} [{phase}]  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P1}  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P1}  lr {m.LearningRate:G3}  {m.Seconds:F1}s");
                bool go = ContinueAfterEpoch?.Invoke(m) ?? true;
                if (m.ValAccuracy > bestAcc || (m.ValAccuracy == bestAcc && m.ValLoss < bestLoss))
                {
                    bestAcc = m.ValAccuracy; bestLoss = m.ValLoss; best = epoch;
                    bestWeights = model.Graph.Parameters.ToDictionary(p => p, p => p.Value.Span.ToArray());
                }
                else if (_o.EarlyStop > 0 && epoch - best >= _o.EarlyStop)
                {
                    log.WriteLine($"early stop: no better validation accuracy for {_o.EarlyStop} epochs");
                    break;
                }
                if (!go)
                {
                    log.WriteLine($"stopped by the caller after epoch {epoch + 1}");
                    stopped = true;
                    break;
                }
            }
            WriteMetrics();
            if (stopped) break;
        }

        // Keep the best epoch's weights, restore the softmax, export and check.
        if (bestWeights != null) foreach (var (p, w) in bestWeights) w.CopyTo(p.Value.Span);
        Head.RestoreSoftmax(model.Graph, head);
        var tuned = Path.Combine(_o.Out, "tuned.onnx");
        var staging = Path.Combine(_o.Out, "tuned.onnx.check");
        var metadata = new Dictionary<string, string>
        {
            ["labels"] = JsonSerializer.Serialize(classes.Names),
            ["preprocessing"] = JsonSerializer.Serialize(new { name = pre.Name, order = pre.Order.ToString().ToUpperInvariant(), range = pre.Range == Augment.Transforms.ValueRange.Byte ? "0-255" : "0-1", mean = pre.Mean, std = pre.Std, resize = pre.ResizeShorterSide, crop = pre.CropSize, channels = pre.Channels }),
            ["transferkit.base_model"] = Path.GetFileName(_o.Model),
        };
        OnnxExporter.Save(model, staging, new ExportOptions { Metadata = metadata });
        var check = ExportCheck.Verify(model.Graph, staging, [ValidationBatch(val, evalPipeline, Math.Min(_o.Batch, 16))]);
        if (!check.Passed)
            throw new InvalidOperationException($"Export check failed for {tuned}: ONNX Runtime max_abs {check.MaxAbs:E3} max_rel {check.MaxRel:E3}{(check.WeightMismatch != null ? "; " + check.WeightMismatch : "")}. The file was not written.");
        File.Move(staging, tuned, overwrite: true);
        log.WriteLine($"exported {tuned}: ONNX Runtime agrees within 1e-5 + 1e-4·|x| (max_abs {check.MaxAbs:E2}); weights round-trip");

        var summary = new FineTuneSummary(bestAcc, best + 1, _metrics.Count, wall.Elapsed.TotalSeconds, train.Count, val.Count, classes.Names.ToArray(),
            skipped, check.MaxAbs, _o.Recipe, usedCache, tuned);
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
            export_parity_max_abs = summary.ExportParityMaxAbs,
            recipe = summary.Recipe,
            feature_cache = summary.FeatureCache,
            tuned_model = summary.TunedModel,
        }, new JsonSerializerOptions { WriteIndented = true }));
        return summary;
    }

    /// <summary>The first validation batch, preprocessed as in training (the export check's input).</summary>
    static Tensor ValidationBatch(ImageDataset val, TransformPipeline evalPipeline, int count)
    {
        using var loader = new DataLoader(val, evalPipeline, new DataLoaderOptions { BatchSize = count, Shuffle = false, Seed = 0 });
        foreach (var b in loader.Epoch(0)) return b.Images.Clone();
        throw new InvalidOperationException("The validation set has no readable image to check the export with.");
    }

    /// <summary>The head at the full learning rate; the body (when it trains) at a tenth (discriminative rates); both with the weight decay asked for.</summary>
    static List<ParameterGroup> Groups(ComputeGraph g, Head head, float lr, bool discriminative, float weightDecay)
    {
        var headParams = head.Nodes.SelectMany(n => n.Inputs).Where(v => v.Parameter != null).Select(v => v.Parameter!).ToHashSet();
        var body = g.Parameters.Where(p => p.Trainable && !headParams.Contains(p)).ToList();
        var groups = new List<ParameterGroup> { new(headParams.Where(p => p.Trainable), discriminative ? lr * 10 : lr, weightDecay) };
        if (body.Count > 0) groups.Add(new ParameterGroup(body, lr, weightDecay));
        foreach (var grp in groups) grp.BaseLearningRate = grp.LearningRate;
        return groups;
    }

    (ImageDataset Train, ImageDataset Val) OpenData()
    {
        var (train, val) = OpenFullData();
        if (_o.LimitTrain > 0) train = SubsetDataset.Balanced(train, _o.LimitTrain, (ulong)_o.Seed);
        if (_o.LimitVal > 0) val = SubsetDataset.Balanced(val, _o.LimitVal, (ulong)_o.Seed + 1);
        return (train, val);
    }

    (ImageDataset Train, ImageDataset Val) OpenFullData()
    {
        if (!Directory.Exists(_o.Data)) throw new DirectoryNotFoundException($"Data folder '{_o.Data}' does not exist.");
        // MNIST-style IDX files: train-* for training, t10k-* (the test set) for validation.
        if (Idx(_o.Data, "train-images-idx3-ubyte") is { } trainImages)
        {
            var trainLabels = Idx(_o.Data, "train-labels-idx1-ubyte") ?? throw new FileNotFoundException($"{_o.Data}: train-images-idx3-ubyte has no train-labels-idx1-ubyte beside it.");
            var train = IdxDataset.Load(trainImages, trainLabels);
            if (_o.Val != null) return (train, ImageFolderDataset.FromFolder(_o.Val));
            if (Idx(_o.Data, "t10k-images-idx3-ubyte") is { } testImages && Idx(_o.Data, "t10k-labels-idx1-ubyte") is { } testLabels)
                return (train, IdxDataset.Load(testImages, testLabels, train.Classes));
            throw new FileNotFoundException($"{_o.Data}: no t10k-images-idx3-ubyte/t10k-labels-idx1-ubyte to validate on; give --val.");
        }
        if (_o.Val != null) return (ImageFolderDataset.FromFolder(_o.Data), ImageFolderDataset.FromFolder(_o.Val));
        var split = ImageFolderDataset.Open(_o.Data, _o.ValSplit, (ulong)_o.Seed);
        return (split.Train, split.Validation);
    }

    static string? Idx(string folder, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    void WriteMetrics() =>
        WriteAtomically(Path.Combine(_o.Out, "metrics.csv"), EpochMetrics.CsvHeader + "\n" + string.Join("\n", _metrics.Select(m => m.ToCsv())) + "\n");

    internal static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
