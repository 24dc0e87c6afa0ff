using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Transforms;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Caching;

/// <summary>
/// What a feature cache's contents are a function of, as one SHA-256: the frozen prefix (its inputs, every node's
/// name, op and attributes, and the bytes of every parameter it reads), the frontier value(s), the transform
/// pipeline's spec, the seed, the number of views, the storage precision, and each sample's label and identity
/// (an image file's full path, length and last-write time; in-memory IDX/CSV pixels by their bytes). Equal keys mean
/// equal features, so a cache file written under a key is reused by any run that computes the same key; anything
/// else (another freeze plan, other weights, other preprocessing or augmentation, edited images) gives another key.
/// </summary>
public sealed class FeatureCacheKey : IEquatable<FeatureCacheKey>
{
    /// <summary>Changes whenever what the key covers or how features are computed changes.</summary>
    const string FormatTag = "transferkit-feature-cache/1";

    readonly byte[] _hash;

    FeatureCacheKey(byte[] hash) => _hash = hash;

    /// <summary>The 32 bytes of the SHA-256.</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>The hash in lower-case hexadecimal.</summary>
    public string Hex => Convert.ToHexStringLower(_hash);

    /// <summary>A key read back from a cache file.</summary>
    public static FeatureCacheKey FromBytes(ReadOnlySpan<byte> hash) =>
        hash.Length == 32 ? new(hash.ToArray()) : throw new ArgumentException($"A feature cache key has 32 bytes, not {hash.Length}.");

    /// <summary>
    /// The key of the features <paramref name="prefix"/> computes (its outputs are the frontier) for
    /// <paramref name="views"/> passes of <paramref name="pipeline"/> over <paramref name="dataset"/>.
    /// </summary>
    public static FeatureCacheKey Compute(ComputeGraph prefix, ImageDataset dataset, TransformPipeline pipeline, int views, ulong seed, FeaturePrecision precision)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Long(long v) { BinaryPrimitives.WriteInt64LittleEndian(number, v); h.AppendData(number); }
        // Length-prefixed, so no two different sequences of strings hash the same bytes.
        void Text(string s) { var b = Encoding.UTF8.GetBytes(s); Long(b.Length); h.AppendData(b); }
        void Shape(ReadOnlySpan<int> dims) { Long(dims.Length); foreach (var d in dims) Long(d); }

        Text(FormatTag);
        Text(precision.ToString());
        Text("inputs");
        Long(prefix.Inputs.Count);
        foreach (var v in prefix.Inputs) { Text(v.Name); Shape(v.DeclaredShape ?? []); }
        Text("nodes");
        Long(prefix.Nodes.Count);
        foreach (var n in prefix.Nodes)
        {
            Text(n.Name); Text(n.Op.Type); Text(n.Op.Describe());
            Long(n.Inputs.Length); foreach (var v in n.Inputs) Text(v.Name);
            Long(n.Outputs.Length); foreach (var v in n.Outputs) Text(v.Name);
        }
        Text("parameters");
        var parameters = prefix.Parameters.ToList();
        Long(parameters.Count);
        foreach (var p in parameters)
        {
            Text(p.Name); Shape(p.Value.Shape);
            h.AppendData(MemoryMarshal.AsBytes(p.Value.Span));
        }
        Text("frontier");
        Long(prefix.Outputs.Count);
        foreach (var v in prefix.Outputs) Text(v.Name);
        Text("pipeline");
        Text(pipeline.ToString());
        Long((long)seed);
        Long(views);
        Text("samples");
        Long(dataset.Count);
        for (int i = 0; i < dataset.Count; i++)
        {
            Long(dataset.GetLabel(i));
            var source = dataset.GetSource(i);
            if (source.Path is { } path)
            {
                var info = new FileInfo(path);
                Text(info.FullName);
                // A missing file is part of the identity too (the loader skips it; its later appearance changes the key).
                Long(info.Exists ? info.Length : -1);
                Long(info.Exists ? info.LastWriteTimeUtc.Ticks : 0);
            }
            else
            {
                Text("raw");
                Long(source.Width); Long(source.Height); Long(source.Channels);
                h.AppendData(source.Pixels.Span);
            }
        }
        return new(h.GetHashAndReset());
    }

    public bool Equals(FeatureCacheKey? other) => other != null && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as FeatureCacheKey);

    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(_hash);

    public override string ToString() => Hex;
}
