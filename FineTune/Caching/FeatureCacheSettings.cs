using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Caching;

/// <summary>How a <see cref="FeatureCache"/> is built and where it may spill.</summary>
public sealed record FeatureCacheSettings
{
    /// <summary>Folder of the spill files (RUN_DIR/cache in a run); null keeps everything in memory or fails.</summary>
    public string? Folder { get; init; }

    /// <summary>Bytes of features the cache may hold in memory; records beyond it are read from the spill file.</summary>
    public long BudgetBytes { get; init; } = 4096L << 20;

    public FeaturePrecision Precision { get; init; } = FeaturePrecision.Fp32;

    /// <summary>Images per prefix forward pass while building.</summary>
    public int Batch { get; init; } = InferenceBatch;

    /// <summary>
    /// Fewest images per prefix forward pass in a run: the frozen prefix runs at inference speed, which grows with the
    /// batch (SqueezeNet 1.1 at 224×224: 180 img/s at 16, 207–225 at 32, 222 at 64 on two cores). The views do not
    /// depend on it: each sample's augmentation is seeded by (seed, view, sample).
    /// </summary>
    public const int InferenceBatch = 32;

    /// <summary>Loader threads while building.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed of the augmentation (view v is the loader's epoch v).</summary>
    public ulong Seed { get; init; }

    /// <summary>The settings of a fine-tune run: spill to RUN_DIR/cache, <c>--cache-budget-mb</c>, <c>--cache-fp16</c>.</summary>
    public static FeatureCacheSettings For(FineTuneOptions o) => new()
    {
        Folder = Path.Combine(o.Out, "cache"),
        BudgetBytes = Math.Max(0, (long)o.CacheBudgetMb) << 20,
        Precision = o.CacheFp16 ? FeaturePrecision.Fp16 : FeaturePrecision.Fp32,
        Batch = Math.Max(o.Batch, InferenceBatch),
        Threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount,
        Seed = (ulong)o.Seed,
    };
}
