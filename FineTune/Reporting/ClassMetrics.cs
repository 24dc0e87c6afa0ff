namespace TransferKit.FineTune.Reporting;

/// <summary>
/// Precision, recall and F1 of one class, from a <see cref="ConfusionMatrix"/> (one-vs-rest):
/// precision = TP / (TP + FP) = C[k,k] / column k, recall = TP / (TP + FN) = C[k,k] / row k,
/// F1 = 2·P·R / (P + R). A ratio whose denominator is zero is reported as 0 (scikit-learn's zero_division=0).
/// </summary>
public sealed record ClassMetrics(int Index, string Name, long Support, long Predicted, long TruePositives, double Precision, double Recall, double F1)
{
    /// <summary>Metrics of every class of the matrix, named by <paramref name="names"/> (index order).</summary>
    public static IReadOnlyList<ClassMetrics> Compute(ConfusionMatrix matrix, IReadOnlyList<string> names)
    {
        if (names.Count != matrix.Classes) throw new ArgumentException($"{names.Count} class names for a {matrix.Classes}-class confusion matrix.");
        var result = new ClassMetrics[matrix.Classes];
        for (int k = 0; k < matrix.Classes; k++)
        {
            long tp = matrix[k, k], support = matrix.Support(k), predicted = matrix.PredictedCount(k);
            double p = Ratio(tp, predicted), r = Ratio(tp, support);
            result[k] = new ClassMetrics(k, names[k], support, predicted, tp, p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
        return result;
    }

    /// <summary>Unweighted means over the classes that have samples (support &gt; 0): macro precision, recall and F1.</summary>
    public static (double Precision, double Recall, double F1) MacroAverage(IEnumerable<ClassMetrics> classes)
    {
        var present = classes.Where(c => c.Support > 0).ToList();
        if (present.Count == 0) return (0, 0, 0);
        return (present.Average(c => c.Precision), present.Average(c => c.Recall), present.Average(c => c.F1));
    }

    static double Ratio(long num, long den) => den == 0 ? 0 : (double)num / den;
}
