namespace TransferKit.Augment.Transforms;

/// <summary>
/// One sample as a planar float image (channels × height × width) plus scratch space, reused from sample to
/// sample by one worker. Tensor transforms read and write it in place.
/// </summary>
public sealed class SampleBuffer
{
    float[] _data = [];
    float[] _scratch = [];

    /// <summary>Number of channels (3 = RGB until a transform changes it).</summary>
    public int Channels { get; private set; }
    public int Height { get; private set; }
    public int Width { get; private set; }

    /// <summary>Pixels per channel.</summary>
    public int PlaneSize => Height * Width;

    /// <summary>All values, channel-major.</summary>
    public Span<float> Pixels => _data.AsSpan(0, Channels * PlaneSize);

    /// <summary>One channel plane.</summary>
    public Span<float> Plane(int channel) => _data.AsSpan(channel * PlaneSize, PlaneSize);

    /// <summary>Scratch space of one plane, contents undefined.</summary>
    public Span<float> Scratch => _scratch.AsSpan(0, PlaneSize);

    /// <summary>Scratch space of <paramref name="length"/> floats, contents undefined.</summary>
    public Span<float> ScratchOf(int length)
    {
        if (_scratch.Length < length) _scratch = new float[length];
        return _scratch.AsSpan(0, length);
    }

    /// <summary>Sets the shape, growing the storage only when needed (contents undefined afterwards).</summary>
    public void Reset(int channels, int height, int width)
    {
        int n = channels * height * width;
        if (_data.Length < Math.Max(n, 3 * height * width)) _data = new float[Math.Max(n, 3 * height * width)];
        if (_scratch.Length < 3 * height * width) _scratch = new float[3 * height * width];
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Changes the channel count keeping the first planes (used by grayscale conversion).</summary>
    public void SetChannels(int channels)
    {
        if (channels * PlaneSize > _data.Length) Array.Resize(ref _data, channels * PlaneSize);
        Channels = channels;
    }
}
