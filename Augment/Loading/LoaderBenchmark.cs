using System.Diagnostics;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Loading;

/// <summary>Throughput of a loader: images per second over whole epochs after one warm-up epoch.</summary>
/// <param name="Images">Images delivered in the measured epochs.</param>
/// <param name="Seconds">Wall time of the measured epochs.</param>
/// <param name="Threads">Worker threads.</param>
/// <param name="BatchSize">Images per batch.</param>
/// <param name="Skipped">Files skipped: left out by the dataset's listing or unreadable (<see cref="SkippedFiles"/> lists them).</param>
/// <param name="CpuSeconds">Process CPU time over the measured epochs (all threads), which other load on the machine does not inflate.</param>
public sealed record LoaderBenchmarkResult(long Images, double Seconds, int Threads, int BatchSize, int Skipped, string Transforms, double CpuSeconds)
{
    /// <summary>Each skipped file with its reason, in ordinal order of path.</summary>
    public IReadOnlyList<SkippedFile> SkippedFiles { get; init; } = [];

    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Seconds > 0 ? Images / Seconds : 0;

    /// <summary>CPU milliseconds spent per image.</summary>
    public double CpuMillisecondsPerImage => Images > 0 ? CpuSeconds * 1000 / Images : 0;
}

/// <summary>Measures how fast a <see cref="DataLoader"/> produces batches.</summary>
public static class LoaderBenchmark
{
    /// <summary>
    /// Runs one warm-up epoch (JIT, file cache, and the decoded-image cache when <paramref name="decodeCacheMegabytes"/> is
    /// above 0), then <paramref name="epochs"/> timed epochs, touching every batch
    /// as a consumer would.
    /// </summary>
    public static LoaderBenchmarkResult Run(ImageDataset dataset, TransformPipeline pipeline, int threads, int batchSize,
        int epochs = 2, ulong seed = 0, int decodeCacheMegabytes = DataLoaderOptions.DefaultDecodeCacheMegabytes)
    {
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "At least one timed epoch is needed.");
        using var loader = new DataLoader(dataset, pipeline, new DataLoaderOptions
        {
            BatchSize = batchSize, Threads = threads, Seed = seed, Prefetch = 2, DecodeCacheMegabytes = decodeCacheMegabytes,
        });
        float sink = 0;
        foreach (var b in loader.Epoch(0)) sink += b.Images.Data[0];
        long images = 0;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (int e = 1; e <= epochs; e++)
            foreach (var b in loader.Epoch(e)) { images += b.Count; sink += b.Images.Data[0]; }
        watch.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        GC.KeepAlive(sink);
        var skipped = SkippedFile.Union(dataset.ListingSkipped, loader.Summary.Skipped);
        return new LoaderBenchmarkResult(images, watch.Elapsed.TotalSeconds, threads, batchSize, skipped.Count, pipeline.ToString(), cpu) { SkippedFiles = skipped };
    }
}
