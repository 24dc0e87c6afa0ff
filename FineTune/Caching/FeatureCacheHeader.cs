using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TransferKit.FineTune.Caching;

/// <summary>
/// The manifest at the start of a feature cache file, little-endian:
/// <code>
/// "TKFEATC1"  magic (8 bytes)        int32 version        int32 precision (1 fp32, 2 fp16)
/// key (32 bytes, SHA-256)            int32 samples        int32 views        int32 rank      int32 shape[rank]
/// int64 record bytes                 int64 data offset (a multiple of 4096)
/// int32 labels[samples]              uint8 present[views·samples]   (0: the loader skipped that image in that view)
/// SHA-256 of everything above (32 bytes)
/// </code>
/// then zero padding up to the data offset, then views·samples fixed-size records (record view·samples + sample).
/// The file is exactly data offset + records·record bytes long; anything else is a damaged file.
/// </summary>
public sealed record FeatureCacheHeader(FeatureCacheKey Key, FeaturePrecision Precision, int Samples, int Views, int[] Shape, int[] Labels, bool[] Present)
{
    public const int Version = 1;
    static ReadOnlySpan<byte> Magic => "TKFEATC1"u8;
    /// <summary>Bytes before the variable part: magic, version, precision, key, samples, views, rank.</summary>
    const int FixedBytes = 8 + 4 + 4 + 32 + 4 + 4 + 4;
    const int Alignment = 4096;
    /// <summary>Bounds a header may declare before it is believed (guards the allocations of a damaged file).</summary>
    const int MaxRank = 8, MaxRecords = 1 << 28;

    public int Records => Samples * Views;

    public int FeatureLength => Shape.Aggregate(1, (a, d) => checked(a * d));

    public long RecordBytes => (long)FeatureLength * FeatureEncoding.ElementBytes(Precision);

    /// <summary>Bytes of the header itself (without padding).</summary>
    public static long Length(int samples, int views, int rank) => FixedBytes + 4L * rank + 16 + 4L * samples + (long)samples * views + 32;

    /// <summary>Where the first record starts.</summary>
    public static long DataOffset(int samples, int views, int rank) => (Length(samples, views, rank) + Alignment - 1) / Alignment * Alignment;

    public long DataOffsetBytes => DataOffset(Samples, Views, Shape.Length);

    /// <summary>The exact length of a complete file with this header.</summary>
    public long FileLength => DataOffsetBytes + Records * RecordBytes;

    public byte[] Serialize()
    {
        var b = new byte[Length(Samples, Views, Shape.Length)];
        int at = 0;
        void I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), v); at += 4; }
        void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), v); at += 8; }
        Magic.CopyTo(b); at = Magic.Length;
        I32(Version); I32((int)Precision);
        Key.Hash.CopyTo(b.AsSpan(at)); at += 32;
        I32(Samples); I32(Views); I32(Shape.Length);
        foreach (var d in Shape) I32(d);
        I64(RecordBytes); I64(DataOffsetBytes);
        foreach (var l in Labels) I32(l);
        foreach (var p in Present) b[at++] = p ? (byte)1 : (byte)0;
        SHA256.HashData(b.AsSpan(0, at), b.AsSpan(at));
        return b;
    }

    /// <summary>
    /// Reads and checks the header of <paramref name="file"/>: magic, version, bounds, its checksum, and that the file
    /// is exactly as long as the header says. Returns null and why when anything is off.
    /// </summary>
    public static FeatureCacheHeader? TryRead(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path, out string? problem)
    {
        long fileLength = RandomAccess.GetLength(file);
        var head = new byte[FixedBytes];
        if (fileLength < FixedBytes || RandomAccess.Read(file, head, 0) < FixedBytes) { problem = $"{path} is truncated ({fileLength} bytes, shorter than a header)"; return null; }
        if (!head.AsSpan(0, Magic.Length).SequenceEqual(Magic)) { problem = $"{path} is not a feature cache file (bad magic)"; return null; }
        int version = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(8));
        if (version != Version) { problem = $"{path} has format version {version}; this build writes {Version}"; return null; }
        int samples = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(FixedBytes - 12));
        int views = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(FixedBytes - 8));
        int rank = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(FixedBytes - 4));
        if (samples < 0 || views < 1 || rank is < 0 or > MaxRank || (long)samples * views > MaxRecords)
        { problem = $"{path} declares an implausible layout ({samples} samples, {views} views, rank {rank})"; return null; }
        long length = Length(samples, views, rank);
        if (fileLength < length) { problem = $"{path} is truncated ({fileLength} bytes, shorter than its {length}-byte header)"; return null; }
        var b = new byte[length];
        if (RandomAccess.Read(file, b, 0) != length) { problem = $"{path}: the header could not be read in full"; return null; }
        var sum = SHA256.HashData(b.AsSpan(0, b.Length - 32));
        if (!sum.AsSpan().SequenceEqual(b.AsSpan(b.Length - 32))) { problem = $"{path}: the header checksum does not match (damaged file)"; return null; }

        int at = 8 + 4;
        int I32() { int v = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at)); at += 4; return v; }
        long I64() { long v = BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(at)); at += 8; return v; }
        var precision = (FeaturePrecision)I32();
        if (precision is not (FeaturePrecision.Fp32 or FeaturePrecision.Fp16)) { problem = $"{path} declares an unknown precision {(int)precision}"; return null; }
        var key = FeatureCacheKey.FromBytes(b.AsSpan(at, 32)); at += 32;
        at += 12;
        var shape = new int[rank];
        for (int i = 0; i < rank; i++) shape[i] = I32();
        long recordBytes = I64(), dataOffset = I64();
        var labels = new int[samples];
        for (int i = 0; i < samples; i++) labels[i] = I32();
        var present = new bool[samples * views];
        for (int i = 0; i < present.Length; i++) present[i] = b[at++] != 0;
        FeatureCacheHeader header;
        try { header = new FeatureCacheHeader(key, precision, samples, views, shape, labels, present); _ = header.RecordBytes; }
        catch (OverflowException) { problem = $"{path} declares an implausible feature shape"; return null; }
        if (shape.Any(d => d <= 0) || recordBytes != header.RecordBytes || dataOffset != header.DataOffsetBytes)
        { problem = $"{path}: record size or data offset disagrees with the declared shape"; return null; }
        if (fileLength != header.FileLength)
        {
            problem = fileLength < header.FileLength
                ? $"{path} is truncated ({fileLength} bytes; {header.FileLength} expected)"
                : $"{path} is longer than its header says ({fileLength} bytes; {header.FileLength} expected)";
            return null;
        }
        problem = null;
        return header;
    }
}
