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
    public int Batch { get; init; } = 16;

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
        Batch = o.Batch,
        Threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount,
        Seed = (ulong)o.Seed,
    };
}
