using System.Diagnostics;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Mixing;
using TransferKit.Augment.Random;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Freezing;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Optim.Schedules;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>
/// Trains one phase (one freeze plan) epoch by epoch. When every node before the first trainable one is frozen and in
/// inference mode, the prefix runs once per cached view (<see cref="FeatureCache"/>) and only the suffix trains;
/// otherwise batches come from the augmenting loader and the whole graph runs.
/// </summary>
sealed class PhaseTrainer(ComputeGraph graph, FreezePlan plan, Optimizer optimizer, Schedule schedule, CrossEntropyLoss loss, TrainerSettings o, TextWriter log) : IDisposable
{
    ComputeGraph _trainGraph = null!;
    FeatureCache? _trainCache, _valCache;
    DataLoader? _trainLoader, _valLoader;
    readonly Dictionary<int, TrainingPlan> _plans = new();
    /// <summary>Without the cache, the frozen prefix (all of it in inference mode) as inference; null when there is none.</summary>
    GraphRunner? _prefix;
    /// <summary>Batch tensors the cached path gathers features into, by batch size: reused, so epochs allocate nothing large.</summary>
    readonly Dictionary<int, Tensor> _gathered = new();
    long _step;
    /// <summary>Mixup/CutMix of the training batches, when either is on (they mix images, so the cache is off then).</summary>
    readonly BatchMixer? _mixer = new BatchMixing(o.Mixup, o.Cutmix) is { Enabled: true } m ? new BatchMixer(m, (ulong)o.Seed) : null;

    /// <summary>Counter-generator stream of the cached path's epoch shuffles.</summary>
    const int ShuffleStream = 0x5EED;

    /// <summary>
    /// Files of the training and validation sets found unreadable so far, each with its reason: all of them once the
    /// feature cache is built, else those the loaders have met (every file is read each epoch).
    /// </summary>
    public IReadOnlyList<SkippedFile> Skipped => _trainCache != null
        ? SkippedFile.Union(_trainCache.Skipped, _valCache?.Skipped ?? [])
        : SkippedFile.Union(_trainLoader?.Summary.Skipped ?? [], _valLoader?.Summary.Skipped ?? []);

    /// <summary>Training steps taken in this phase: the counter dropout masks hash (saved with checkpoints).</summary>
    public long Step { get => _step; set => _step = value; }

    /// <summary>The per-sample results of the latest epoch's validation.</summary>
    public ValidationPass? LastValidation { get; private set; }

    /// <summary>Sets up the data path; returns whether the feature cache is used. Without <paramref name="val"/> there is no validation (<see cref="Epoch"/> needs it).</summary>
    /// <param name="progress">Reports (batches done, batches in all, status) while the cache is built.</param>
    public bool Prepare(ImageDataset train, ImageDataset? val, TransformPipeline trainPipeline, TransformPipeline evalPipeline, Action<int, int, string>? progress = null)
    {
        var cut = FrozenPrefix.TryCreate(graph, n => !plan.TrainingMode(n));
        bool cacheable = o.CacheViews > 0 && _mixer == null && cut is { FrontierValues.Count: 1 };
        if (cacheable)
        {
            var prefix = cut!.Prefix;
            _trainGraph = cut.Suffix;
            var sw = Stopwatch.StartNew();
            // Validation first: every one of its records is read every epoch, a training record every K epochs.
            var cacheSettings = o.Cache;
            int valBatches = val == null ? 0 : (val.Count + o.Batch - 1) / o.Batch, trainBatches = o.CacheViews * ((train.Count + o.Batch - 1) / o.Batch);
            // One runner for both (the prefix is frozen, batch norm in inference mode): its plans, packed weights and
            // buffers are made once.
            var runner = new GraphRunner(prefix, optimize: true);
            _valCache = val == null ? null : FeatureCache.GetOrBuild("val", prefix, val, evalPipeline, 1, cacheSettings, log,
                (d, _) => progress?.Invoke(d, valBatches + trainBatches, "validation views"), runner);
            _trainCache = FeatureCache.GetOrBuild("train", prefix, train, trainPipeline, o.CacheViews,
                cacheSettings with { BudgetBytes = cacheSettings.BudgetBytes - (_valCache?.ResidentBytes ?? 0) }, log,
                (d, _) => progress?.Invoke(valBatches + d, valBatches + trainBatches, $"{o.CacheViews} training views"), runner);
            log.WriteLine($"feature cache: frontier '{cut.FrontierValues[0].Name}' {Shapes.Format(_trainCache.FeatureShape)}, {o.CacheViews} views × {train.Count} training images + {val?.Count ?? 0} validation, {(_trainCache.Bytes + (_valCache?.Bytes ?? 0)) / 1048576} MB, ready in {sw.Elapsed.TotalSeconds:F1}s");
            return true;
        }
        // A frozen prefix the cache cannot hold (mixed images, views drawn afresh each epoch) still runs as inference,
        // batch by batch; only the suffix trains.
        _prefix = cut == null ? null : new GraphRunner(cut.Prefix, optimize: true);
        _trainGraph = cut?.Suffix ?? graph;
        _trainLoader = new DataLoader(train, trainPipeline, new DataLoaderOptions { BatchSize = o.Batch, Seed = (ulong)o.Seed, Threads = o.LoaderThreads, Shuffle = true });
        _valLoader = val == null ? null : new DataLoader(val, evalPipeline, new DataLoaderOptions { BatchSize = o.Batch, Seed = (ulong)o.Seed, Shuffle = false, Threads = o.LoaderThreads });
        _trainLoader.Summary.FileSkipped += SkipLog.For(log, "train");
        if (_valLoader != null) _valLoader.Summary.FileSkipped += SkipLog.For(log, "validation");
        log.WriteLine(cut != null && _mixer != null ? $"feature cache off: {_mixer.Settings} mixes the training images before the frozen prefix (which runs as inference)"
            : cut != null ? $"feature cache off ({(o.CacheViews == 0 ? "turned off" : "the frozen prefix ends in more than one value")}); the frozen prefix runs as inference"
            : FrozenPrefix.FrontierOf(graph) > 0 ? "feature cache off (a node before the first trainable one runs in training mode)" : "training the whole graph");
        if (_mixer != null) log.WriteLine($"batch mixing: {_mixer.Settings}" + (o.Mixup > 0 && o.Cutmix > 0 ? $", cutmix on {BatchMixing.SwitchProbability:P0} of batches" : ""));
        return false;
    }

    /// <summary>The inputs of the trained graph for a batch of images: the frozen prefix's outputs when it runs apart (valid until its next run), else the batch.</summary>
    IReadOnlyList<Tensor> ThroughPrefix(Tensor x) => _prefix != null ? _prefix.Infer([x]) : [x];

    TrainingPlan PlanFor(IReadOnlyList<Tensor> inputs)
    {
        int batch = inputs[0].Dim(0);
        if (!_plans.TryGetValue(batch, out var p)) _plans[batch] = p = new TrainingPlan(_trainGraph, inputs.Select(t => t.ShapeArray).ToArray(), n => !Training(n));
        return p;
    }

    bool Training(Node n) => plan.TrainingMode(n);

    /// <param name="progress">Reports (batches done, batches in all, running loss, accuracy and images per second) per batch.</param>
    /// <param name="batchEnd">Told (batch, 1-based; batches in the epoch; the batch's mean loss) after each optimizer step:
    /// the training callbacks' <c>OnBatchEnd</c>, where a NaN loss stops the run (<see cref="Callbacks.TerminateOnNaN"/>).</param>
    public EpochMetrics Epoch(int phaseEpoch, int globalEpoch, int phaseEpochs, Action<int, int, string>? progress = null, Action<int, int, double>? batchEnd = null)
    {
        var sw = Stopwatch.StartNew();
        double lossSum = 0; int correct = 0, seen = 0;
        // Batches stream from the cache or the prefetching loader; only their count is known up front.
        int count = _trainCache != null ? (_trainCache.ValidSamples.Length + o.Batch - 1) / o.Batch : _trainLoader!.BatchesPerEpoch;
        int b = 0;
        foreach (var (x, labels) in TrainBatches(phaseEpoch))
        {
            schedule.Apply(optimizer, phaseEpoch + (double)b / count);
            optimizer.ZeroGrad();
            var (l, ok) = TrainBatch(x, labels);
            optimizer.Step();
            lossSum += l * labels.Length; seen += labels.Length;
            correct += ok;
            b++;
            batchEnd?.Invoke(b, count, l);
            progress?.Invoke(b, count, $"loss {lossSum / seen:F4} acc {(double)correct / seen:P1} {seen / sw.Elapsed.TotalSeconds:F0} img/s");
        }
        var v = LastValidation = Validate();
        return new EpochMetrics(globalEpoch + 1, lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1), v.Loss, v.Accuracy,
            optimizer.Groups[0].LearningRate, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// One batch forward in training mode, its mean loss, and backward: adds the batch's gradients into the trainable
    /// parameters (the caller zeroes them and steps the optimizer). Returns the loss and how many predictions were right.
    /// </summary>
    /// <remarks>
    /// With mixup or CutMix on, the batch's images are mixed in place first (keyed on the step, so a resumed run mixes
    /// alike) and the loss is taken against the mixed targets; a prediction counts as right when it names the label
    /// with the larger share.
    /// </remarks>
    public (double Loss, int Correct) TrainBatch(Tensor x, int[] labels)
    {
        var mixed = _mixer != null ? _mixer.Mix(x.Span, x.ShapeArray, labels, _step) : null;
        var inputs = ThroughPrefix(x);
        var tp = PlanFor(inputs);
        var y = tp.Forward(inputs, Training, _step++)[0];
        int n = labels.Length;
        var logits = y.Reshaped(n, y.Length / n);
        var grad = new Tensor(logits.ShapeArray);
        double l = mixed == null ? loss.Compute(logits, labels, grad) : loss.Compute(logits, mixed.LabelsA, mixed.LabelsB, mixed.Lambda, grad);
        tp.Backward([grad.Reshaped(y.ShapeArray)]);
        return (l, Correct(logits, mixed == null || mixed.Lambda >= 0.5f ? labels : mixed.LabelsB));
    }

    static int Correct(Tensor logits, ReadOnlySpan<int> labels)
    {
        int c = logits.Dim(1), ok = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.Span.Slice(i * c, c);
            int arg = 0;
            for (int k = 1; k < c; k++) if (row[k] > row[arg]) arg = k;
            if (arg == labels[i]) ok++;
        }
        return ok;
    }

    /// <summary>
    /// The training batches of one epoch (cached features of view epoch mod K, or augmented images), shuffled by (seed,
    /// epoch). A batch is valid until the next one is asked for (cached batches reuse their tensor).
    /// </summary>
    public IEnumerable<(Tensor X, int[] Labels)> TrainBatches(int epoch)
    {
        if (_trainCache != null)
        {
            // The epoch's order is a pure function of (seed, epoch): the same in every process and after a resume.
            var valid = _trainCache.ValidSamples;
            var perm = new int[valid.Length];
            new Augment.Random.CounterRng((ulong)o.Seed, epoch, -1, ShuffleStream).Permutation(perm);
            var order = perm.Select(i => valid[i]).ToArray();
            foreach (var chunk in order.Chunk(o.Batch)) yield return Gather(_trainCache, epoch, chunk);
            yield break;
        }
        foreach (var b in _trainLoader!.Epoch(epoch)) yield return (b.CompactImages(), b.LabelSpan.ToArray());
    }

    /// <summary>
    /// The features of <paramref name="samples"/> in one batch tensor. The tensor is reused by the next batch of the
    /// same size: each batch is finished (forward and backward) before the next is gathered.
    /// </summary>
    (Tensor, int[]) Gather(FeatureCache cache, int view, int[] samples)
    {
        if (!_gathered.TryGetValue(samples.Length, out var x)) _gathered[samples.Length] = x = new Tensor([samples.Length, .. cache.FeatureShape]);
        cache.Read(view, samples, x.Span);
        return (x, samples.Select(s => cache.Labels[s]).ToArray());
    }

    /// <summary>Closes the loaders and the feature caches of this phase (their spill files stay for a later run with the same key).</summary>
    public void Dispose()
    {
        _trainLoader?.Dispose();
        _valLoader?.Dispose();
        _trainCache?.Dispose();
        _valCache?.Dispose();
    }

    /// <summary>Runs the validation set through the model as it is now (inference mode).</summary>
    public ValidationPass Validate()
    {
        if (_valCache == null && _valLoader == null) throw new InvalidOperationException("This phase was prepared without a validation set.");
        var runner = new GraphRunner(_trainGraph, optimize: true);   // weights as they are now, folded for this pass only
        double lossSum = 0; int correct = 0, seen = 0;
        List<int> samples = [], allLabels = [];
        List<float> allLogits = [];
        IEnumerable<(Tensor, int[], int[])> batches = _valCache != null
            ? _valCache.ValidSamples.Chunk(o.Batch).Select(c => { var (x, l) = Gather(_valCache, 0, c); return (x, l, c); })
            : _valLoader!.Epoch(0).Select(b => (b.CompactImages(), b.LabelSpan.ToArray(), b.SampleIndices[..b.Count].ToArray()));
        foreach (var (x, labels, indices) in batches)
        {
            // Inference mode throughout (batch norm on running statistics, no dropout).
            var y = runner.Infer(ThroughPrefix(x))[0];
            var logits = y.Reshaped(labels.Length, y.Length / labels.Length);
            lossSum += loss.Compute(logits, labels, null) * labels.Length;
            correct += Correct(logits, labels);
            seen += labels.Length;
            samples.AddRange(indices); allLabels.AddRange(labels); allLogits.AddRange(logits.Span.ToArray());
        }
        return new ValidationPass(lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1), samples.ToArray(), allLabels.ToArray(),
            allLogits.ToArray(), seen == 0 ? 0 : allLogits.Count / seen);
    }
}
