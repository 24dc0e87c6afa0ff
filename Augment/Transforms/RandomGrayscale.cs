using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>torchvision <c>RandomGrayscale(p=0.1)</c>: with probability p, every channel becomes the luma (3 channels kept).</summary>
public sealed class RandomGrayscale : TensorTransform
{
    public RandomGrayscale(double p = 0.1)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomGrayscale p must be in [0, 1].");
        P = p;
    }

    public double P { get; }

    public override void Apply(SampleBuffer img, ref CounterRng rng)
    {
        if (!rng.Bernoulli(P) || img.Channels != 3) return;
        var gray = img.Scratch;
        ColorMath.Luma(img.Plane(0), img.Plane(1), img.Plane(2), gray);
        for (int c = 0; c < 3; c++) gray.CopyTo(img.Plane(c));
    }

    public override string ToString() => $"RandomGrayscale({F(P)})";
}
