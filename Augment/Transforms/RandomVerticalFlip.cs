using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>torchvision <c>RandomVerticalFlip(p=0.5)</c>: mirrors top–bottom with probability p.</summary>
public sealed class RandomVerticalFlip : GeometricTransform
{
    public RandomVerticalFlip(double p = 0.5)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomVerticalFlip p must be in [0, 1].");
        P = p;
    }

    public double P { get; }

    public override bool PreservesSize => true;

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        if (rng.Bernoulli(P)) g.Push(new Affine2D(1, 0, 0, -1, 0, g.Height), g.Width, g.Height);
    }

    public override string ToString() => $"RandomVerticalFlip({F(P)})";
}
