namespace TransferKit.FineTune.Inference;

/// <summary>
/// Turns a classifier's output rows into probabilities. The rule: when every value of every row in the batch lies in
/// [0, 1] and every row sums to 1 within <see cref="SumTolerance"/>, the output is taken to be probabilities already
/// (the model ends in a softmax) and is used as it is; otherwise a softmax is applied to each row.
/// </summary>
public static class ClassProbabilities
{
    /// <summary>How far a row's sum may be from 1 (and a value outside [0, 1]) for the row to count as probabilities.</summary>
    public const float SumTolerance = 1e-3f;

    /// <summary>Whether every row of <paramref name="rows"/> ([n, classes], row-major) is already a probability distribution.</summary>
    public static bool AreProbabilities(ReadOnlySpan<float> rows, int classes)
    {
        if (classes <= 0 || rows.Length % classes != 0) throw new ArgumentException($"{rows.Length} values do not make rows of {classes} classes.");
        for (int r = 0; r < rows.Length; r += classes)
        {
            double sum = 0;
            foreach (var v in rows.Slice(r, classes))
            {
                if (!(v >= -SumTolerance && v <= 1 + SumTolerance)) return false;   // also false for NaN
                sum += v;
            }
            if (Math.Abs(sum - 1) > SumTolerance) return false;
        }
        return true;
    }

    /// <summary>
    /// Probabilities of each row (a new array); <paramref name="softmaxApplied"/> tells which way the rule went.
    /// </summary>
    public static float[] From(ReadOnlySpan<float> rows, int classes, out bool softmaxApplied)
    {
        softmaxApplied = !AreProbabilities(rows, classes);
        var result = rows.ToArray();
        if (!softmaxApplied) return result;
        for (int r = 0; r < result.Length; r += classes)
        {
            var row = result.AsSpan(r, classes);
            float max = float.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp(row[k] - max);
            for (int k = 0; k < classes; k++) row[k] = (float)(Math.Exp(row[k] - max) / sum);
        }
        return result;
    }
}
