using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>torchvision <c>RandomHorizontalFlip(p=0.5)</c>: mirrors left–right with probability p.</summary>
public sealed class RandomHorizontalFlip : GeometricTransform
{
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "RandomHorizontalFlip p must be in [0, 1].");
        P = p;
    }

    public double P { get; }

    public override bool PreservesSize => true;

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        if (rng.Bernoulli(P)) g.Push(new Affine2D(-1, 0, 0, 1, g.Width, 0), g.Width, g.Height);
    }

    public override string ToString() => $"RandomHorizontalFlip({F(P)})";
}
