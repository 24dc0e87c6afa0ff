using TransferKit.Augment.Loading;

namespace TransferKit.Augment.Datasets;

/// <summary>A labelled list of images: the common face of folder, IDX and CSV datasets.</summary>
public abstract class ImageDataset
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>Class names by index.</summary>
    public abstract ClassMap Classes { get; }

    /// <summary>The class index of sample <paramref name="index"/>.</summary>
    public abstract int GetLabel(int index);

    /// <summary>Where the pixels of sample <paramref name="index"/> come from.</summary>
    public abstract SampleSource GetSource(int index);

    /// <summary>A name for sample <paramref name="index"/> in messages (its path for files).</summary>
    public virtual string Describe(int index) => GetSource(index).Describe(index);

    /// <summary>
    /// Files and directories met while listing the dataset that are not samples, each with why (e.g. "unsupported
    /// format .tiff"); empty for datasets not read from a folder. Files that fail when decoded are reported by the
    /// loader (<see cref="LoaderSummary.Skipped"/>) instead.
    /// </summary>
    public virtual IReadOnlyList<SkippedFile> ListingSkipped => [];

    /// <summary>Samples per class, indexed by class.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[Classes.Count];
        for (int i = 0; i < Count; i++) counts[GetLabel(i)]++;
        return counts;
    }
}
