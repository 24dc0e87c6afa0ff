using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>RandomRotation(degrees)</c>: rotates counter-clockwise by an angle uniform in
/// [−degrees, degrees] (or [min, max]) about the image centre, keeping the size (expand=False) and filling with 0.
/// </summary>
public sealed class RandomRotation : GeometricTransform
{
    public RandomRotation(double degrees) : this(-degrees, degrees)
    {
        if (degrees < 0) throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "RandomRotation degrees must be non-negative when given as one number.");
    }

    public RandomRotation(double minDegrees, double maxDegrees)
    {
        if (!(minDegrees <= maxDegrees)) throw new ArgumentException($"RandomRotation range ({minDegrees}, {maxDegrees}) must have min ≤ max.");
        MinDegrees = minDegrees;
        MaxDegrees = maxDegrees;
    }

    public double MinDegrees { get; }
    public double MaxDegrees { get; }

    public override bool PreservesSize => true;

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        double angle = rng.Uniform(MinDegrees, MaxDegrees);
        g.Push(AboutCentre(angle, g.Width, g.Height), g.Width, g.Height);
    }

    /// <summary>
    /// Output→input map for a counter-clockwise (on screen) rotation by <paramref name="degrees"/> about the centre.
    /// A point p of the output comes from C + R(θ)(p − C) where R is <see cref="Affine2D.Rotation"/>.
    /// </summary>
    public static Affine2D AboutCentre(double degrees, int width, int height)
    {
        double cx = width / 2.0, cy = height / 2.0;
        return Affine2D.Translation(cx, cy) * Affine2D.Rotation(degrees) * Affine2D.Translation(-cx, -cy);
    }

    public override string ToString() => MinDegrees == -MaxDegrees ? $"RandomRotation({F(MaxDegrees)})" : $"RandomRotation(({F(MinDegrees)},{F(MaxDegrees)}))";
}
