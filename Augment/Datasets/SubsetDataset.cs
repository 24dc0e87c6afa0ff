namespace TransferKit.Augment.Datasets;

/// <summary>
/// A view of some samples of another dataset (same classes): e.g. a seeded, class-balanced subset for a quick run.
/// </summary>
public sealed class SubsetDataset : ImageDataset
{
    readonly ImageDataset _source;
    readonly int[] _indices;

    public SubsetDataset(ImageDataset source, IReadOnlyList<int> indices)
    {
        _source = source;
        _indices = indices.ToArray();
        foreach (var i in _indices)
            if ((uint)i >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"The dataset has {source.Count} samples.");
    }

    /// <summary>
    /// At most <paramref name="count"/> samples, taken round-robin over the classes in a seeded order, so every class
    /// keeps its share.
    /// </summary>
    public static ImageDataset Balanced(ImageDataset source, int count, ulong seed)
    {
        if (count >= source.Count) return source;
        var byClass = Enumerable.Range(0, source.Classes.Count).Select(_ => new List<int>()).ToArray();
        var order = new int[source.Count];
        new Random.CounterRng(seed, 0, -1, 0x5B5E7).Permutation(order);
        foreach (var i in order) byClass[source.GetLabel(i)].Add(i);
        var picked = new List<int>(count);
        for (int round = 0; picked.Count < count; round++)
            foreach (var list in byClass)
                if (round < list.Count && picked.Count < count) picked.Add(list[round]);
        picked.Sort();
        return new SubsetDataset(source, picked);
    }

    public override int Count => _indices.Length;
    public override ClassMap Classes => _source.Classes;
    public override int GetLabel(int index) => _source.GetLabel(_indices[index]);
    public override SampleSource GetSource(int index) => _source.GetSource(_indices[index]);
    public override string Describe(int index) => _source.Describe(_indices[index]);

    /// <summary>The source's listing: a subset leaves out samples, not what the walk met.</summary>
    public override IReadOnlyList<Loading.SkippedFile> ListingSkipped => _source.ListingSkipped;
}
