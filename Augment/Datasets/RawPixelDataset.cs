namespace TransferKit.Augment.Datasets;

/// <summary>
/// Images held in memory as 8-bit pixels of one size (IDX and CSV datasets). A pipeline turns them into the
/// size and channel count wanted, e.g. <c>Resize((28,28)),Grayscale(1)</c> or <see cref="Presets.Preprocessing.Mnist"/>.
/// </summary>
public class RawPixelDataset : ImageDataset
{
    readonly byte[] _pixels;
    readonly int[] _labels;

    public RawPixelDataset(byte[] pixels, int[] labels, int width, int height, int channels, ClassMap classes)
    {
        if (pixels.Length != (long)labels.Length * width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes is not {labels.Length} images of {width}×{height}×{channels}.");
        foreach (var l in labels)
            if ((uint)l >= (uint)classes.Count) throw new ArgumentException($"Label {l} is outside the {classes.Count} classes.");
        _pixels = pixels;
        _labels = labels;
        Width = width;
        Height = height;
        Channels = channels;
        Classes = classes;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    public override ClassMap Classes { get; }

    public override int Count => _labels.Length;

    public override int GetLabel(int index) => _labels[index];

    public override SampleSource GetSource(int index)
    {
        int n = Width * Height * Channels;
        return SampleSource.Raw(_pixels.AsMemory(index * n, n), Width, Height, Channels);
    }

    /// <summary>The first <paramref name="count"/> samples (handy for quick runs).</summary>
    public RawPixelDataset Take(int count)
    {
        count = Math.Min(count, Count);
        int n = Width * Height * Channels;
        return new RawPixelDataset(_pixels.AsSpan(0, count * n).ToArray(), _labels[..count], Width, Height, Channels, Classes);
    }

    /// <summary>Opens a file for reading, transparently un-gzipping when it starts with the gzip magic 1F 8B.</summary>
    internal static Stream OpenMaybeGzip(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file '{path}' does not exist.", path);
        var fs = File.OpenRead(path);
        int b0 = fs.ReadByte(), b1 = fs.ReadByte();
        fs.Position = 0;
        if (b0 == 0x1F && b1 == 0x8B) return new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress);
        return fs;
    }

    internal static ClassMap DigitClasses(int count) => new(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
