using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>torchvision <c>Grayscale(num_output_channels)</c>: luma in 1 channel, or copied to 3.</summary>
public sealed class Grayscale : TensorTransform
{
    public Grayscale(int outputChannels = 1)
    {
        if (outputChannels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(outputChannels), outputChannels, "Grayscale output channels must be 1 or 3.");
        Channels = outputChannels;
    }

    public int Channels { get; }

    public override int OutputChannels(int inputChannels) => Channels;

    public override void Apply(SampleBuffer img, ref CounterRng rng)
    {
        if (img.Channels == 3)
        {
            var gray = img.Scratch;
            ColorMath.Luma(img.Plane(0), img.Plane(1), img.Plane(2), gray);
            gray.CopyTo(img.Plane(0));
        }
        img.SetChannels(Channels);
        for (int c = 1; c < Channels; c++) img.Plane(0).CopyTo(img.Plane(c));
    }

    public override string ToString() => $"Grayscale({Channels})";
}
