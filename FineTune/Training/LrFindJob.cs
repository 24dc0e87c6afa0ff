using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Optim.Schedules;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>
/// A learning-rate range test on the model exactly as a fine-tune run would train it: the same data (limits included),
/// new head, freeze plan of the recipe's phase, parameter groups, optimizer, loss and data path (the frozen-prefix
/// feature cache with only as many views as the sweep can use, or the augmenting loader). Nothing is written.
/// </summary>
public sealed class LrFindJob(FineTuneOptions options, LrFinder finder, TextWriter log)
{
    public LrFinderResult Run()
    {
        var o = options;
        if (o.Recipe is not ("head" or "full")) throw new ArgumentException($"lr-find sweeps one phase: --recipe head or full, not '{o.Recipe}'.");
        if (o.Threads > 0) Toolkit.Threading.Workers.MaxThreads = o.Threads;
        var (train, _) = JobSetup.OpenData(o);
        int classCount = JobSetup.ClassCount(train, o);
        var (model, _, head, trainPipeline, evalPipeline) = JobSetup.PrepareModel(o, classCount, log);
        log.WriteLine($"data: {train.Count} training images in {train.Classes.Count} classes");

        var plan = JobSetup.FreezePlanFor(model.Graph, head, o.Recipe, o);
        JobSetup.SeedDropout(model.Graph, o.Seed, 0);
        var groups = JobSetup.Groups(model.Graph, head, o.Lr, discriminative: false, o.WeightDecay);
        var optimizer = OptimizerFactory.Create(o.Optimizer, groups);
        // Each cached view serves one pass over the training set; the sweep needs at most this many passes.
        int passes = (int)Math.Ceiling((double)finder.Steps * o.Batch / Math.Max(train.Count, 1));
        var trainOptions = o with { CacheViews = Math.Min(o.CacheViews, Math.Max(passes, 1)) };
        using var trainer = new PhaseTrainer(model.Graph, plan, optimizer, new ConstantSchedule(), new CrossEntropyLoss(o.LabelSmoothing), TrainerSettings.From(trainOptions), log);
        trainer.Prepare(train, null, trainPipeline, evalPipeline);
        log.WriteLine($"sweep: {o.Optimizer}, lr {TransferKit.FineTune.Reporting.Numbers.Fixed(finder.StartLr)} → {TransferKit.FineTune.Reporting.Numbers.Fixed(finder.EndLr)} over {finder.Steps} steps of {o.Batch} images, recipe {o.Recipe}, trainable {model.Graph.Parameters.Where(p => p.Trainable).Sum(p => (long)p.Value.Length):N0} parameters");

        using var batches = Batches(trainer).GetEnumerator();
        return finder.Run(optimizer, step =>
        {
            batches.MoveNext();
            var (x, labels) = batches.Current;
            return trainer.TrainBatch(x, labels).Loss;
        }, model.Graph.Parameters);
    }

    /// <summary>Training batches epoch after epoch, for as long as the sweep asks.</summary>
    static IEnumerable<(Tensor X, int[] Labels)> Batches(PhaseTrainer trainer)
    {
        for (int epoch = 0; ; epoch++)
        {
            bool any = false;
            foreach (var b in trainer.TrainBatches(epoch)) { any = true; yield return b; }
            if (!any) throw new InvalidOperationException("No training image could be read.");
        }
    }
}
