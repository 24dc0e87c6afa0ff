namespace TransferKit.Augment.Imaging;

/// <summary>
/// A 2-D affine map in continuous pixel coordinates (pixel (i, j) covers [i, i+1) × [j, j+1)):
/// <c>x' = M11·x + M12·y + TX</c>, <c>y' = M21·x + M22·y + TY</c>.
/// Geometric transforms compose these as output-pixel → source-pixel maps.
/// </summary>
public readonly record struct Affine2D(double M11, double M12, double M21, double M22, double TX, double TY)
{
    public static Affine2D Identity => new(1, 0, 0, 1, 0, 0);

    public static Affine2D Translation(double tx, double ty) => new(1, 0, 0, 1, tx, ty);

    public static Affine2D Scale(double sx, double sy) => new(sx, 0, 0, sy, 0, 0);

    /// <summary>Matrix [[cos, −sin], [sin, cos]] for an angle in degrees (clockwise on screen, y down).</summary>
    public static Affine2D Rotation(double degrees)
    {
        double r = degrees * Math.PI / 180, c = Math.Cos(r), s = Math.Sin(r);
        return new(c, -s, s, c, 0, 0);
    }

    /// <summary>Composition: <c>(a * b)(p) = a(b(p))</c>, i.e. <paramref name="b"/> is applied first.</summary>
    public static Affine2D operator *(Affine2D a, Affine2D b) => new(
        a.M11 * b.M11 + a.M12 * b.M21, a.M11 * b.M12 + a.M12 * b.M22,
        a.M21 * b.M11 + a.M22 * b.M21, a.M21 * b.M12 + a.M22 * b.M22,
        a.M11 * b.TX + a.M12 * b.TY + a.TX, a.M21 * b.TX + a.M22 * b.TY + a.TY);

    public double Determinant => M11 * M22 - M12 * M21;

    /// <summary>The inverse map; throws when the map is singular.</summary>
    public Affine2D Inverse()
    {
        double det = Determinant;
        if (Math.Abs(det) < 1e-12) throw new InvalidOperationException($"Affine map {this} is singular.");
        double i11 = M22 / det, i12 = -M12 / det, i21 = -M21 / det, i22 = M11 / det;
        return new(i11, i12, i21, i22, -(i11 * TX + i12 * TY), -(i21 * TX + i22 * TY));
    }

    public (double X, double Y) Apply(double x, double y) => (M11 * x + M12 * y + TX, M21 * x + M22 * y + TY);

    /// <summary>
    /// The smaller singular value of the linear part: how many source pixels one output pixel spans
    /// in its least-stretched direction. Used to pick a reduced decode scale without losing detail.
    /// </summary>
    public double MinStretch()
    {
        // Singular values of [[a, b], [c, d]]: sqrt((S ± sqrt(S² − 4·det²)) / 2) with S = a²+b²+c²+d².
        double s = M11 * M11 + M12 * M12 + M21 * M21 + M22 * M22;
        double det = Determinant;
        double disc = Math.Sqrt(Math.Max(0, s * s - 4 * det * det));
        return Math.Sqrt(Math.Max(0, (s - disc) / 2));
    }
}
