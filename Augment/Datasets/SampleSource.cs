namespace TransferKit.Augment.Datasets;

/// <summary>
/// Where the pixels of one sample come from: an image file, or raw 8-bit pixels in memory
/// (row-major, <see cref="Channels"/> interleaved) as IDX and CSV datasets provide.
/// </summary>
public readonly record struct SampleSource(string? Path, ReadOnlyMemory<byte> Pixels, int Width, int Height, int Channels)
{
    public static SampleSource File(string path) => new(path, default, 0, 0, 0);

    public static SampleSource Raw(ReadOnlyMemory<byte> pixels, int width, int height, int channels) => new(null, pixels, width, height, channels);

    /// <summary>A name for messages.</summary>
    public string Describe(int index) => Path ?? $"in-memory sample #{index}";
}
