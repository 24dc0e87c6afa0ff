using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>RandomAffine(degrees, translate, scale, shear)</c>. Parameters are drawn in torchvision's
/// order (angle, translation, scale, shear x, shear y); the forward map about the centre C with translation t is
/// <c>T(C + t) · R(angle) · S(scale) · SHy(sy) · SHx(sx) · T(−C)</c>, and its inverse is pushed as output→input.
/// Translation fractions are of the width/height and rounded to whole pixels; fill is 0.
/// </summary>
public sealed class RandomAffine : GeometricTransform
{
    public RandomAffine(double degrees, (double X, double Y)? translate = null, (double Min, double Max)? scale = null,
        double[]? shear = null)
        : this(-Math.Abs(degrees), Math.Abs(degrees), translate, scale, shear)
    {
        if (degrees < 0) throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "RandomAffine degrees must be non-negative when given as one number.");
    }

    public RandomAffine(double minDegrees, double maxDegrees, (double X, double Y)? translate, (double Min, double Max)? scale, double[]? shear)
    {
        if (!(minDegrees <= maxDegrees)) throw new ArgumentException($"RandomAffine degrees ({minDegrees}, {maxDegrees}) must have min ≤ max.");
        if (translate is { } t && (t.X is < 0 or > 1 || t.Y is < 0 or > 1))
            throw new ArgumentException($"RandomAffine translate ({t.X}, {t.Y}) must be fractions in [0, 1].");
        if (scale is { } s && (s.Min <= 0 || s.Min > s.Max))
            throw new ArgumentException($"RandomAffine scale ({s.Min}, {s.Max}) must satisfy 0 < min ≤ max.");
        MinDegrees = minDegrees;
        MaxDegrees = maxDegrees;
        Translate = translate;
        ScaleRange = scale;
        Shear = shear switch
        {
            null => null,
            { Length: 1 } => [-Math.Abs(shear[0]), Math.Abs(shear[0]), 0, 0],
            { Length: 2 } => [shear[0], shear[1], 0, 0],
            { Length: 4 } => (double[])shear.Clone(),
            _ => throw new ArgumentException($"RandomAffine shear takes 1, 2 or 4 numbers, not {shear.Length}."),
        };
        HasShearY = shear is { Length: 4 };
    }

    public double MinDegrees { get; }
    public double MaxDegrees { get; }
    public (double X, double Y)? Translate { get; }
    public (double Min, double Max)? ScaleRange { get; }

    /// <summary>Shear ranges in degrees: x min, x max, y min, y max.</summary>
    public double[]? Shear { get; }
    bool HasShearY { get; }

    public override bool PreservesSize => true;

    public override void Plan(ref Geometry g, ref CounterRng rng)
    {
        double angle = rng.Uniform(MinDegrees, MaxDegrees);
        double tx = 0, ty = 0;
        if (Translate is { } t)
        {
            double mx = t.X * g.Width, my = t.Y * g.Height;
            tx = Math.Round(rng.Uniform(-mx, mx), MidpointRounding.ToEven);
            ty = Math.Round(rng.Uniform(-my, my), MidpointRounding.ToEven);
        }
        double s = ScaleRange is { } sr ? rng.Uniform(sr.Min, sr.Max) : 1.0;
        double shx = 0, shy = 0;
        if (Shear is { } sh)
        {
            shx = rng.Uniform(sh[0], sh[1]);
            if (HasShearY) shy = rng.Uniform(sh[2], sh[3]);
        }
        g.Push(ForwardMap(angle, tx, ty, s, shx, shy, g.Width, g.Height).Inverse(), g.Width, g.Height);
    }

    /// <summary>Input→output map for the given parameters (angles in degrees).</summary>
    public static Affine2D ForwardMap(double angle, double tx, double ty, double scale, double shearX, double shearY, int width, int height)
    {
        double cx = width / 2.0, cy = height / 2.0;
        var shx = new Affine2D(1, -Math.Tan(shearX * Math.PI / 180), 0, 1, 0, 0);
        var shy = new Affine2D(1, 0, -Math.Tan(shearY * Math.PI / 180), 1, 0, 0);
        var rss = Affine2D.Rotation(angle) * Affine2D.Scale(scale, scale) * shy * shx;
        return Affine2D.Translation(cx + tx, cy + ty) * rss * Affine2D.Translation(-cx, -cy);
    }

    public override string ToString()
    {
        var parts = new List<string> { MinDegrees == -MaxDegrees ? F(MaxDegrees) : $"({F(MinDegrees)},{F(MaxDegrees)})" };
        if (Translate is { } t) parts.Add($"translate=({F(t.X)},{F(t.Y)})");
        if (ScaleRange is { } s) parts.Add($"scale=({F(s.Min)},{F(s.Max)})");
        if (Shear is { } sh) parts.Add(HasShearY ? $"shear=({F(sh[0])},{F(sh[1])},{F(sh[2])},{F(sh[3])})" : $"shear=({F(sh[0])},{F(sh[1])})");
        return $"RandomAffine({string.Join(",", parts)})";
    }
}
