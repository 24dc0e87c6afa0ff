using System.Diagnostics;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
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
sealed class PhaseTrainer(ComputeGraph graph, FreezePlan plan, Optimizer optimizer, Schedule schedule, CrossEntropyLoss loss, FineTuneOptions o, TextWriter log) : IDisposable
{
    ComputeGraph _trainGraph = graph;
    FeatureCache? _trainCache, _valCache;
    DataLoader? _trainLoader, _valLoader;
    readonly Dictionary<int, TrainingPlan> _plans = new();
    long _step;

    /// <summary>Counter-generator stream of the cached path's epoch shuffles.</summary>
    const int ShuffleStream = 0x5EED;

    public int Skipped { get; private set; }

    /// <summary>Sets up the data path; returns whether the feature cache is used.</summary>
    public bool Prepare(ImageDataset train, ImageDataset val, TransformPipeline trainPipeline, TransformPipeline evalPipeline)
    {
        int frontier = Frontier();
        var frontierValues = frontier > 0
            ? graph.Nodes.Where(n => n.Index >= frontier).SelectMany(n => n.Inputs)
                .Where(v => v.Kind != ValueKind.Parameter && (v.Producer == null || v.Producer.Index < frontier)).Distinct().ToList()
            : [];
        bool cacheable = o.CacheViews > 0 && frontier > 0 && frontierValues.Count == 1 && frontierValues[0].Kind == ValueKind.Activation
                         && graph.Nodes.Take(frontier).All(n => !plan.TrainingMode(n));
        if (cacheable)
        {
            var prefix = graph.Subgraph(0, frontier, frontierValues);
            _trainGraph = graph.Subgraph(frontier, graph.Nodes.Count, graph.Outputs);
            var sw = Stopwatch.StartNew();
            // Validation first: every one of its records is read every epoch, a training record every K epochs.
            var cacheSettings = Caching.FeatureCacheSettings.For(o);
            _valCache = FeatureCache.GetOrBuild("val", prefix, val, evalPipeline, 1, cacheSettings, log);
            _trainCache = FeatureCache.GetOrBuild("train", prefix, train, trainPipeline, o.CacheViews,
                cacheSettings with { BudgetBytes = cacheSettings.BudgetBytes - _valCache.ResidentBytes }, log);
            Skipped = train.Count - _trainCache.ValidSamples.Length + val.Count - _valCache.ValidSamples.Length;
            log.WriteLine($"feature cache: frontier '{frontierValues[0].Name}' {Shapes.Format(_trainCache.FeatureShape)}, {o.CacheViews} views × {train.Count} training images + {val.Count} validation, {(_trainCache.Bytes + _valCache.Bytes) / 1048576} MB, ready in {sw.Elapsed.TotalSeconds:F1}s");
            return true;
        }
        _trainGraph = graph;
        _trainLoader = new DataLoader(train, trainPipeline, new DataLoaderOptions { BatchSize = o.Batch, Seed = (ulong)o.Seed, Threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount, Shuffle = true });
        _valLoader = new DataLoader(val, evalPipeline, new DataLoaderOptions { BatchSize = o.Batch, Seed = (ulong)o.Seed, Shuffle = false, Threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount });
        log.WriteLine(frontier > 0 ? "feature cache off (the frozen prefix is not cacheable or the cache was turned off)" : "training the whole graph");
        return false;
    }

    /// <summary>Index of the first node on a path from a trainable parameter, moved before any dropout right in front.</summary>
    int Frontier()
    {
        var needs = new bool[graph.Values.Count];
        int first = graph.Nodes.Count;
        foreach (var n in graph.Nodes)
        {
            bool any = n.Inputs.Any(v => needs[v.Id] || (v.Kind == ValueKind.Parameter && v.Parameter!.Trainable));
            if (!any) continue;
            foreach (var outV in n.Outputs) needs[outV.Id] = true;
            first = Math.Min(first, n.Index);
        }
        while (first > 0 && graph.Nodes[first - 1].Op is Toolkit.Ops.DropoutOp) first--;
        return first;
    }

    TrainingPlan PlanFor(int[] shape)
    {
        if (!_plans.TryGetValue(shape[0], out var p)) _plans[shape[0]] = p = new TrainingPlan(_trainGraph, [shape]);
        return p;
    }

    bool Training(Node n) => plan.TrainingMode(n);

    public EpochMetrics Epoch(int phaseEpoch, int globalEpoch, int phaseEpochs)
    {
        var sw = Stopwatch.StartNew();
        double lossSum = 0; int correct = 0, seen = 0;
        var batches = TrainBatches(phaseEpoch).ToList();
        for (int b = 0; b < batches.Count; b++)
        {
            var (x, labels) = batches[b];
            schedule.Apply(optimizer, phaseEpoch + (double)b / batches.Count);
            var tp = PlanFor(x.ShapeArray);
            var y = tp.Forward([x], Training, _step++)[0];
            int n = labels.Length;
            var logits = y.Reshaped(n, y.Length / n);
            var grad = new Tensor(logits.ShapeArray);
            double l = loss.Compute(logits, labels, grad);
            if (double.IsNaN(l) || double.IsInfinity(l))
                throw new ArithmeticException($"The training loss became {l} at epoch {globalEpoch + 1}, batch {b + 1}; lower the learning rate (--lr).");
            optimizer.ZeroGrad();
            tp.Backward([grad.Reshaped(y.ShapeArray)]);
            optimizer.Step();
            lossSum += l * n; seen += n;
            correct += Correct(logits, labels);
        }
        var (valLoss, valAcc) = Validate();
        return new EpochMetrics(globalEpoch + 1, lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1), valLoss, valAcc,
            optimizer.Groups[0].LearningRate, sw.Elapsed.TotalSeconds);
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

    IEnumerable<(Tensor X, int[] Labels)> TrainBatches(int epoch)
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
        foreach (var b in _trainLoader!.Epoch(epoch))
        {
            var shape = b.Images.ShapeArray; shape[0] = b.Count;
            int per = b.Images.Length / b.Images.Dim(0);
            yield return (new Tensor(shape, b.Images.Span[..(b.Count * per)].ToArray()), b.LabelSpan.ToArray());
        }
    }

    static (Tensor, int[]) Gather(FeatureCache cache, int view, int[] samples)
    {
        var x = new Tensor([samples.Length, .. cache.FeatureShape]);
        cache.Read(view, samples, x.Span);
        return (x, samples.Select(s => cache.Labels[s]).ToArray());
    }

    /// <summary>Closes the feature caches of this phase (their spill files stay for a later run with the same key).</summary>
    public void Dispose()
    {
        _trainCache?.Dispose();
        _valCache?.Dispose();
    }

    (double Loss, double Accuracy) Validate()
    {
        var runner = new GraphRunner(_trainGraph);
        double lossSum = 0; int correct = 0, seen = 0;
        IEnumerable<(Tensor, int[])> batches = _valCache != null
            ? _valCache.ValidSamples.Chunk(o.Batch).Select(c => Gather(_valCache, 0, c))
            : _valLoader!.Epoch(0).Select(b =>
            {
                var shape = b.Images.ShapeArray; shape[0] = b.Count;
                int per = b.Images.Length / b.Images.Dim(0);
                return (new Tensor(shape, b.Images.Span[..(b.Count * per)].ToArray()), b.LabelSpan.ToArray());
            });
        foreach (var (x, labels) in batches)
        {
            // Inference mode throughout (batch norm on running statistics, no dropout).
            var y = runner.PlanFor([x]).Run([x])[0];
            var logits = y.Reshaped(labels.Length, y.Length / labels.Length);
            lossSum += loss.Compute(logits, labels, null) * labels.Length;
            correct += Correct(logits, labels);
            seen += labels.Length;
        }
        return (lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1));
    }
}
