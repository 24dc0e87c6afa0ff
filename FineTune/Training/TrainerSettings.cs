using TransferKit.FineTune.Caching;

namespace TransferKit.FineTune.Training;

/// <summary>What a <see cref="PhaseTrainer"/> reads of a run's options: batching, seeds, threads, the feature cache and batch mixing.</summary>
/// <param name="Threads">Loader threads (0: all cores).</param>
/// <param name="CacheViews">Augmented views per training image in the feature cache (0: no cache).</param>
/// <param name="Mixup">Mixup's Beta concentration (0: off).</param>
/// <param name="Cutmix">CutMix's Beta concentration (0: off).</param>
sealed record TrainerSettings(int Batch, int Seed, int Threads, int CacheViews, float Mixup, float Cutmix, FeatureCacheSettings Cache)
{
    public static TrainerSettings From(FineTuneOptions o) => new(o.Batch, o.Seed, o.Threads, o.CacheViews, o.Mixup, o.Cutmix, FeatureCacheSettings.For(o));

    public int LoaderThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
