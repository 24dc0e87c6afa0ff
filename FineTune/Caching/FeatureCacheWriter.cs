using Microsoft.Win32.SafeHandles;

namespace TransferKit.FineTune.Caching;

/// <summary>
/// Writes a feature cache file atomically: records go by positional writes into a temporary file beside the final
/// one (sized up front), the header goes in last, then the file is flushed and moved over the final name. A run
/// killed part-way leaves only a <c>.tmp-PID</c> file, which nothing reads.
/// </summary>
public sealed class FeatureCacheWriter : IDisposable
{
    readonly SafeFileHandle _handle;
    readonly long _dataOffset, _recordBytes;
    readonly int _records;
    bool _done;

    FeatureCacheWriter(string path, string temporary, SafeFileHandle handle, long dataOffset, long recordBytes, int records)
    {
        Path = path; TemporaryPath = temporary; _handle = handle;
        _dataOffset = dataOffset; _recordBytes = recordBytes; _records = records;
    }

    /// <summary>The final file name.</summary>
    public string Path { get; }

    /// <summary>Where the file is written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>Starts a file of <paramref name="samples"/>·<paramref name="views"/> records of <paramref name="recordBytes"/> bytes.</summary>
    public static FeatureCacheWriter Create(string path, int samples, int views, int rank, long recordBytes)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var temporary = $"{path}.tmp-{Environment.ProcessId}";
        long dataOffset = FeatureCacheHeader.DataOffset(samples, views, rank);
        var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None);
        try { RandomAccess.SetLength(handle, dataOffset + (long)samples * views * recordBytes); }
        catch (IOException e)
        {
            handle.Dispose();
            File.Delete(temporary);
            throw new IOException($"Cannot make room for the feature cache {path} ({(dataOffset + (long)samples * views * recordBytes) / 1048576} MB): {e.Message}", e);
        }
        return new FeatureCacheWriter(path, temporary, handle, dataOffset, recordBytes, samples * views);
    }

    /// <summary>Writes record <paramref name="index"/> (exactly the record size).</summary>
    public void Write(int index, ReadOnlySpan<byte> record)
    {
        if ((uint)index >= (uint)_records || record.Length != _recordBytes)
            throw new ArgumentOutOfRangeException(nameof(index), $"Record {index} of {_records} with {record.Length} bytes ({_recordBytes} expected).");
        RandomAccess.Write(_handle, record, _dataOffset + index * _recordBytes);
    }

    /// <summary>Writes the header, flushes, moves the file into place and opens it for reading.</summary>
    public FeatureCacheFile Commit(FeatureCacheHeader header)
    {
        if (header.RecordBytes != _recordBytes || header.Records != _records || header.DataOffsetBytes != _dataOffset)
            throw new ArgumentException($"The header of {Path} does not describe the records written.");
        RandomAccess.Write(_handle, header.Serialize(), 0);
        RandomAccess.FlushToDisk(_handle);
        _handle.Dispose();
        File.Move(TemporaryPath, Path, overwrite: true);
        _done = true;
        return FeatureCacheFile.OpenCommitted(Path, header);
    }

    /// <summary>Drops an uncommitted file.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _handle.Dispose();
        try { File.Delete(TemporaryPath); } catch (IOException) { }
    }
}
