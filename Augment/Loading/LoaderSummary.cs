using System.Collections.Concurrent;

namespace TransferKit.Augment.Loading;

/// <summary>Running totals of a loader: samples delivered and files skipped (each reported once).</summary>
public sealed class LoaderSummary
{
    readonly ConcurrentDictionary<int, SkippedFile> _skipped = new();
    long _loaded;

    /// <summary>Samples delivered in batches, over all epochs.</summary>
    public long Loaded => Interlocked.Read(ref _loaded);

    /// <summary>Distinct files skipped, in dataset order.</summary>
    public IReadOnlyList<SkippedFile> Skipped => _skipped.Values.OrderBy(s => s.Index).ToArray();

    /// <summary>Number of distinct files skipped.</summary>
    public int SkippedCount => _skipped.Count;

    /// <summary>Raised (on a worker thread) the first time a file is skipped.</summary>
    public event Action<SkippedFile>? FileSkipped;

    internal bool IsKnownBad(int index) => _skipped.ContainsKey(index);

    internal void AddLoaded(int n) => Interlocked.Add(ref _loaded, n);

    internal void AddSkipped(SkippedFile file)
    {
        if (_skipped.TryAdd(file.Index, file)) FileSkipped?.Invoke(file);
    }

    public override string ToString() => $"{Loaded} images loaded, {SkippedCount} files skipped";
}
