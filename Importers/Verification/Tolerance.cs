namespace TransferKit.Importers.Verification;

/// <summary>
/// The one comparison rule: |actual − expected| ≤ Atol + Rtol·|expected|, with named tolerances.
/// </summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    /// <summary>Parity of our kernels with ONNX Runtime at import (<c>transferkit verify</c>).</summary>
    public static readonly Tolerance Import = new(1e-4, 1e-3);

    /// <summary>Parity of an exported model with the native model it came from.</summary>
    public static readonly Tolerance Export = new(1e-5, 1e-4);

    public bool Within(double actual, double expected) =>
        Math.Abs(actual - expected) <= Atol + Rtol * Math.Abs(expected) || (double.IsNaN(actual) && double.IsNaN(expected));

    /// <summary>Compares two equally long sequences: max absolute error, max relative error and whether all are within.</summary>
    public Comparison Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected) => Compare(actual, expected, default);

    /// <summary>
    /// As <see cref="Compare(ReadOnlySpan{float}, ReadOnlySpan{float})"/>, each element i also allowed
    /// <paramref name="allowance"/>[i] (empty: none): |actual − expected| ≤ Atol + Rtol·|expected| + allowance[i]
    /// (the per-node round-off of a reduction, <see cref="RoundingAllowance"/>). <see cref="Comparison.MaxRatio"/> is
    /// the largest error over its bound.
    /// </summary>
    public Comparison Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, ReadOnlySpan<float> allowance)
    {
        if (actual.Length != expected.Length || (!allowance.IsEmpty && allowance.Length != expected.Length))
            return new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
        double maxAbs = 0, maxRel = 0, maxRatio = 0; bool ok = true; int worst = -1; double worstExcess = double.NegativeInfinity;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            double abs = Math.Abs(a - e);
            if (double.IsNaN(abs)) abs = double.IsNaN(a) && double.IsNaN(e) ? 0 : double.PositiveInfinity;
            double rel = abs / Math.Max(Math.Abs(e), 1e-12);
            maxAbs = Math.Max(maxAbs, abs);
            if (abs > 0) maxRel = Math.Max(maxRel, rel);
            double bound = Atol + Rtol * Math.Abs(e) + (allowance.IsEmpty ? 0 : allowance[i]);
            double excess = abs - bound;
            if (excess > 0) ok = false;
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
            maxRatio = Math.Max(maxRatio, abs / bound);
        }
        return new Comparison(maxAbs, maxRel, ok, worst, maxRatio);
    }
}

/// <summary>The result of comparing two tensors.</summary>
/// <param name="MaxRatio">The largest |actual − expected| over its bound (within: at most 1).</param>
public readonly record struct Comparison(double MaxAbs, double MaxRel, bool Within, int WorstIndex, double MaxRatio = double.PositiveInfinity);
