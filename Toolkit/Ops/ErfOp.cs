namespace TransferKit.Toolkit.Ops;

/// <summary>Erf: y = erf(x) = 2/√π ∫₀ˣ e^−t² dt. Gradient: dx = g·2/√π·e^−x².</summary>
public sealed class ErfOp : UnaryOp
{
    /// <summary>2/√π.</summary>
    public const double TwoOverSqrtPi = 1.1283791670955126;

    public override string Type => "Erf";
    public override float Scalar(float x) => (float)Erf(x);
    public override bool GradientReadsOutput => false;
    public override float Derivative(float x, float y) => (float)(TwoOverSqrtPi * Math.Exp(-(double)x * x));

    /// <summary>
    /// erf in double, accurate to about 1e-14 (far below float32 rounding): the Maclaurin series below |x| = 3, and
    /// erfc by its continued fraction (evaluated bottom-up, 60 levels) from there; ±1 beyond |x| = 6.
    /// </summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (double.IsNaN(x)) return double.NaN;
        if (a >= 6) return Math.Sign(x);
        if (a < 3)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)); terms peak near n = x² and fall below 1e-17 of the sum by n ≈ 60.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 80; n++)
            {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
            }
            return TwoOverSqrtPi * sum;
        }
        // erfc(a) = e^−a²/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))).
        double f = a;
        for (int k = 60; k >= 1; k--) f = a + k / 2.0 / f;
        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }
}
