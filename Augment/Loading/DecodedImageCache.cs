using System.Collections.Concurrent;
using TransferKit.Augment.Imaging;

namespace TransferKit.Augment.Loading;

/// <summary>
/// Decoded images kept by a <see cref="DataLoader"/> across epochs and cached views, so a file is decoded once per run
/// while its random crops, flips and colour changes are still drawn afresh for every sample (the resampler reads the
/// kept pixels and mipmap levels; outputs are bit-identical to decoding again). ImageSharp 2.1 has no reduced-scale
/// JPEG decode, which made the decode the largest cost per sample; this is how the loader wins it back. Entries are
/// managed copies (no pooled memory held) and are added until <see cref="BudgetBytes"/> is reached, never evicted, so a
/// dataset larger than the budget keeps its first images and decodes the rest every time. Files are assumed not to
/// change during a run. Thread-safe.
/// </summary>
public sealed class DecodedImageCache
{
    readonly ConcurrentDictionary<string, SourceImage> _entries = new(StringComparer.Ordinal);
    long _bytes;

    /// <summary>A cache holding at most <paramref name="budgetBytes"/> of pixels (mipmap levels included).</summary>
    public DecodedImageCache(long budgetBytes)
    {
        if (budgetBytes < 0) throw new ArgumentOutOfRangeException(nameof(budgetBytes), budgetBytes, "The budget cannot be negative.");
        BudgetBytes = budgetBytes;
    }

    /// <summary>Most bytes of pixels kept.</summary>
    public long BudgetBytes { get; }

    /// <summary>Bytes of pixels kept now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Images kept now.</summary>
    public int Count => _entries.Count;

    /// <summary>Bytes an image of this size costs: 3 per pixel, plus a third for its mipmap levels.</summary>
    public static long CostOf(int decodedWidth, int decodedHeight) => 4L * decodedWidth * decodedHeight;

    /// <summary>The kept image of <paramref name="path"/>, if any; it is shared, so callers must not dispose it.</summary>
    public bool TryGet(string path, out SourceImage image) => _entries.TryGetValue(path, out image!);

    /// <summary>
    /// Keeps a managed copy of <paramref name="decoded"/> for <paramref name="path"/> when it fits the budget and returns
    /// the kept image (shared; do not dispose), else null. The caller still owns <paramref name="decoded"/>.
    /// </summary>
    public SourceImage? TryAdd(string path, SourceImage decoded)
    {
        long cost = CostOf(decoded.DecodedWidth, decoded.DecodedHeight);
        if (Interlocked.Add(ref _bytes, cost) > BudgetBytes)
        {
            Interlocked.Add(ref _bytes, -cost);
            return null;
        }
        var copy = decoded.ToManaged();
        if (_entries.TryAdd(path, copy)) return copy;
        Interlocked.Add(ref _bytes, -cost); // another worker kept it first
        return _entries[path];
    }
}
