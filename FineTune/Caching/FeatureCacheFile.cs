using Microsoft.Win32.SafeHandles;

namespace TransferKit.FineTune.Caching;

/// <summary>
/// An open, checked feature cache file (<see cref="FeatureCacheHeader"/> describes the layout), read with positional
/// reads: one record, or a run of consecutive records, straight into the caller's buffer, never the whole file.
/// </summary>
public sealed class FeatureCacheFile : IDisposable
{
    readonly SafeFileHandle _handle;

    FeatureCacheFile(string path, SafeFileHandle handle, FeatureCacheHeader header)
    {
        Path = path;
        _handle = handle;
        Header = header;
    }

    public string Path { get; }

    public FeatureCacheHeader Header { get; }

    /// <summary>
    /// Opens <paramref name="path"/> when it is a complete cache written under <paramref name="key"/> in
    /// <paramref name="precision"/> for <paramref name="samples"/> samples and <paramref name="views"/> views; otherwise
    /// returns null and says why (a file that does not match is never trusted).
    /// </summary>
    public static FeatureCacheFile? TryOpen(string path, FeatureCacheKey key, FeaturePrecision precision, int samples, int views, out string? problem)
    {
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problem = $"{path} cannot be opened: {e.Message}"; return null; }
        var header = FeatureCacheHeader.TryRead(handle, path, out problem);
        if (header != null && !header.Key.Equals(key)) problem = $"{path} was written under another key ({header.Key.Hex[..16]}…)";
        else if (header != null && (header.Precision != precision || header.Samples != samples || header.Views != views))
            problem = $"{path} holds {header.Views} views × {header.Samples} samples in {header.Precision}; {views} × {samples} in {precision} expected";
        if (problem != null) { handle.Dispose(); return null; }
        return new FeatureCacheFile(path, handle, header!);
    }

    /// <summary>Opens a file just committed by a <see cref="FeatureCacheWriter"/> (checked like any other).</summary>
    internal static FeatureCacheFile OpenCommitted(string path, FeatureCacheHeader header) =>
        TryOpen(path, header.Key, header.Precision, header.Samples, header.Views, out var problem)
        ?? throw new IOException($"The feature cache file just written does not read back: {problem}.");

    /// <summary>Reads <paramref name="count"/> consecutive records from <paramref name="first"/> into <paramref name="destination"/>.</summary>
    public void Read(int first, int count, Span<byte> destination)
    {
        long bytes = count * Header.RecordBytes;
        if ((uint)first > (uint)Header.Records || count < 0 || first + count > Header.Records || destination.Length < bytes)
            throw new ArgumentOutOfRangeException(nameof(first), $"Records {first}..{first + count} of {Header.Records} into {destination.Length} bytes.");
        long offset = Header.DataOffsetBytes + first * Header.RecordBytes;
        var rest = destination[..(int)bytes];
        while (!rest.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, rest, offset);
            if (n <= 0) throw new IOException($"Feature cache file {Path} ended at byte {offset} while reading records {first}..{first + count - 1}; it was truncated while in use.");
            rest = rest[n..];
            offset += n;
        }
    }

    public void Dispose() => _handle.Dispose();
}
