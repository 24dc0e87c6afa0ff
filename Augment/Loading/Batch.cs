using TransferKit.Toolkit.Tensors;

namespace TransferKit.Augment.Loading;

/// <summary>
/// One NCHW float32 batch and its labels. The loader owns the storage and reuses it: a batch is valid until the
/// enumerator moves to the next one (copy it with <see cref="Images"/>.Clone() to keep it).
/// </summary>
public sealed class Batch
{
    internal Batch(int capacity, int channels, int height, int width)
    {
        Data = new float[capacity * channels * height * width];
        Labels = new int[capacity];
        SampleIndices = new int[capacity];
        Ok = new bool[capacity];
        Channels = channels;
        Height = height;
        Width = width;
        FullTensor = new Tensor([capacity, channels, height, width], Data);
        Images = FullTensor;
    }

    internal float[] Data { get; }
    internal bool[] Ok { get; }
    internal Tensor FullTensor { get; }

    /// <summary>The images, shape [Count, C, H, W].</summary>
    public Tensor Images { get; internal set; }

    /// <summary>
    /// <see cref="Images"/> on storage of exactly its size: the batch's own tensor when the batch is full (no copy,
    /// valid until the enumerator moves on), a copy of the first Count images when it is the short last batch.
    /// </summary>
    public Tensor CompactImages() => Count == Labels.Length ? Images : Images.Clone();

    /// <summary>Label storage; the first <see cref="Count"/> entries belong to this batch.</summary>
    public int[] Labels { get; }

    /// <summary>Dataset index of each image; the first <see cref="Count"/> entries belong to this batch.</summary>
    public int[] SampleIndices { get; }

    /// <summary>Images in this batch (smaller than the batch size for the last batch or after skipped files).</summary>
    public int Count { get; internal set; }

    /// <summary>Position of this batch in the epoch.</summary>
    public int Index { get; internal set; }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>The labels of this batch.</summary>
    public ReadOnlySpan<int> LabelSpan => Labels.AsSpan(0, Count);

    internal int SampleSize => Channels * Height * Width;
}
