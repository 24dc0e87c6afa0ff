namespace TransferKit.FineTune.Training;

/// <summary>
/// One pass over the validation set: the aggregate loss and accuracy, and per sample its index in the validation
/// dataset, its label and its logits (row-major [<see cref="Count"/>, <see cref="Classes"/>]). Samples that could not
/// be read are absent.
/// </summary>
/// <param name="Loss">Mean training-loss value (label smoothing included when the run uses it).</param>
/// <param name="Accuracy">Fraction of samples whose arg-max logit (first on ties) is the label.</param>
public sealed record ValidationPass(double Loss, double Accuracy, int[] Samples, int[] Labels, float[] Logits, int Classes)
{
    public int Count => Samples.Length;

    public ReadOnlySpan<float> LogitsOf(int i) => Logits.AsSpan(i * Classes, Classes);

    /// <summary>The predicted class of sample <paramref name="i"/>: the arg-max logit, the first one on ties.</summary>
    public int Predicted(int i)
    {
        var row = LogitsOf(i);
        int arg = 0;
        for (int k = 1; k < row.Length; k++) if (row[k] > row[arg]) arg = k;
        return arg;
    }

    /// <summary>
    /// The class predicted for every sample when there is only one and the labels hold more than one class (the model
    /// ignores its input, as when a ReLU after the head has died for all but one class), else null.
    /// </summary>
    public int? SinglePrediction()
    {
        if (Count < 2 || Labels.All(l => l == Labels[0])) return null;
        int first = Predicted(0);
        for (int i = 1; i < Count; i++)
            if (Predicted(i) != first) return null;
        return first;
    }

    /// <summary>Plain cross-entropy of sample <paramref name="i"/>: −log softmax(z)_y, computed in double.</summary>
    public double SampleLoss(int i)
    {
        var row = LogitsOf(i);
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        return Math.Log(sum) + max - row[Labels[i]];
    }

    /// <summary>softmax(z)_k of sample <paramref name="i"/>.</summary>
    public double Probability(int i, int k)
    {
        var row = LogitsOf(i);
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        return Math.Exp(row[k] - max) / sum;
    }
}
