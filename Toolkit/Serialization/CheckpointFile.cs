using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Serialization;

/// <summary>
/// A checkpoint file (<c>.tkc</c>): named float32 tensors plus a JSON object of state, guarded by a SHA-256.
/// Layout, little-endian:
/// <code>
/// 8 bytes   magic "TKCKPT01" (the last two characters are the format version)
/// 8 bytes   int64 H, the length of the header
/// H bytes   UTF-8 JSON header: { "state": {…}, "tensors": [ { "name", "shape": [..], "offset" } … ] }
///           (offset in bytes from the start of the data block)
/// …         data block: each tensor's float32 values in index order
/// 32 bytes  SHA-256 of every byte before it
/// </code>
/// The file is written to a temporary file in the same folder, flushed to disk and renamed over the target, so a
/// reader sees the previous complete checkpoint or the new one, never a torn file.
/// </summary>
public sealed class CheckpointFile
{
    public const string Extension = ".tkc";
    static readonly byte[] Magic = "TKCKPT01"u8.ToArray();
    const int HashBytes = 32;

    readonly List<string> _order = [];
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>Free-form state (the caller's schema), stored as the header's <c>state</c>.</summary>
    public JsonObject State { get; set; } = new();

    /// <summary>The file this checkpoint was read from (null for one built in memory); used in error messages.</summary>
    public string? Source { get; private init; }

    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyList<string> Names => _order;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Adds a tensor (its current values are written by <see cref="Save"/>).</summary>
    public void Add(string name, Tensor tensor)
    {
        if (!_tensors.TryAdd(name, tensor)) throw new ArgumentException($"The checkpoint already has a tensor named '{name}'.");
        _order.Add(name);
    }

    /// <summary>The tensor of that name; a clear error naming the file when it is missing.</summary>
    public Tensor Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Checkpoint '{Source ?? "(in memory)"}' has no tensor named '{name}'.");

    public bool TryGet(string name, out Tensor tensor) => _tensors.TryGetValue(name, out tensor!);

    /// <summary>
    /// Writes the checkpoint atomically (temporary file in the same folder, flushed, then renamed).
    /// <paramref name="beforeReplace"/>, when given, is told the temporary file's path once it is complete and before
    /// it replaces <paramref name="path"/> (a seam for tests that stop a writer at that point).
    /// </summary>
    public void Save(string path, Action<string>? beforeReplace = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Checkpoints are written on little-endian machines only.");
        var index = new JsonArray();
        long offset = 0;
        foreach (var name in _order)
        {
            var t = _tensors[name];
            index.Add(new JsonObject { ["name"] = name, ["shape"] = new JsonArray(t.ShapeArray.Select(d => (JsonNode)d).ToArray()), ["offset"] = offset });
            offset += (long)t.Length * sizeof(float);
        }
        var header = Encoding.UTF8.GetBytes(new JsonObject { ["state"] = State.DeepClone(), ["tensors"] = index }.ToJsonString());

        var full = Path.GetFullPath(path);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                void Write(ReadOnlySpan<byte> bytes) { fs.Write(bytes); hash.AppendData(bytes); }
                Write(Magic);
                Span<byte> len = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(len, header.Length);
                Write(len);
                Write(header);
                foreach (var name in _order) Write(MemoryMarshal.AsBytes(_tensors[name].Span));
                fs.Write(hash.GetHashAndReset());
                fs.Flush(flushToDisk: true);
            }
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
        beforeReplace?.Invoke(tmp);
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>Reads and verifies a checkpoint; a damaged or foreign file is an <see cref="InvalidDataException"/> naming it.</summary>
    public static CheckpointFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Checkpoints are read on little-endian machines only.");
        var bytes = File.ReadAllBytes(path);
        InvalidDataException Bad(string what) => new($"Checkpoint '{path}' is not a readable TransferKit checkpoint: {what}.");
        if (bytes.Length < Magic.Length + 8 + HashBytes || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Bad(bytes.Length >= 6 && bytes.AsSpan(0, 6).SequenceEqual(Magic.AsSpan(0, 6))
                ? $"format version '{Encoding.ASCII.GetString(bytes, 6, 2)}' (this build reads 01)"
                : "the magic bytes are missing (wrong file type, or truncated)");
        var body = bytes.AsSpan(0, bytes.Length - HashBytes);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashBytes)))
            throw Bad("the SHA-256 does not match (the file is truncated or damaged)");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(Magic.Length));
        int dataStart = Magic.Length + 8;
        if (headerLength <= 0 || headerLength > body.Length - dataStart) throw Bad($"header length {headerLength} does not fit the file");
        JsonObject header;
        try { header = JsonNode.Parse(body.Slice(dataStart, (int)headerLength))?.AsObject() ?? throw Bad("empty header"); }
        catch (JsonException e) { throw Bad($"the header is not valid JSON ({e.Message})"); }
        dataStart += (int)headerLength;
        long dataLength = body.Length - dataStart;

        var file = new CheckpointFile { Source = path, State = header["state"] as JsonObject ?? new JsonObject() };
        header.Remove("state");
        foreach (var entry in header["tensors"] as JsonArray ?? throw Bad("the header has no tensor index"))
        {
            string name; int[] shape; long offset;
            try
            {
                name = entry?["name"]?.GetValue<string>() ?? throw Bad("a tensor without a name");
                shape = (entry!["shape"] as JsonArray)?.Select(d => d?.GetValue<int>() ?? throw Bad($"tensor '{name}' has a null dimension")).ToArray()
                        ?? throw Bad($"tensor '{name}' has no shape");
                offset = entry["offset"]?.GetValue<long>() ?? throw Bad($"tensor '{name}' has no offset");
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw Bad($"a tensor index entry is malformed ({e.Message})");
            }
            long count;
            try { count = Shapes.ElementCount(shape); }
            catch (Exception e) when (e is ShapeException or OverflowException) { throw Bad($"tensor '{name}' has an invalid shape: {e.Message}"); }
            if (count < 0 || offset < 0 || offset + count * sizeof(float) > dataLength)
                throw Bad($"tensor '{name}' {Shapes.Format(shape)} at byte {offset} runs past the data block ({dataLength} bytes)");
            var values = new float[count];
            body.Slice(dataStart + (int)offset, (int)count * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            try { file.Add(name, new Tensor(shape, values)); }
            catch (ArgumentException) { throw Bad($"tensor '{name}' appears twice"); }
        }
        return file;
    }
}
