namespace TransferKit.FineTune.Reporting;

/// <summary>
/// Counts of (true class, predicted class) pairs: row = true class, column = predicted class. The diagonal holds the
/// correct predictions, so accuracy = trace / total.
/// </summary>
public sealed class ConfusionMatrix
{
    readonly long[,] _counts;

    public ConfusionMatrix(int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "A confusion matrix needs at least one class.");
        Classes = classes;
        _counts = new long[classes, classes];
    }

    public int Classes { get; }

    /// <summary>How many samples of class <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>Counts one prediction.</summary>
    public void Add(int actual, int predicted)
    {
        if ((uint)actual >= (uint)Classes) throw new ArgumentOutOfRangeException(nameof(actual), actual, $"True class {actual} is outside 0..{Classes - 1}.");
        if ((uint)predicted >= (uint)Classes) throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"Predicted class {predicted} is outside 0..{Classes - 1}.");
        _counts[actual, predicted]++;
    }

    /// <summary>All samples counted.</summary>
    public long Total { get { long t = 0; foreach (var c in _counts) t += c; return t; } }

    /// <summary>Samples on the diagonal.</summary>
    public long Correct { get { long t = 0; for (int k = 0; k < Classes; k++) t += _counts[k, k]; return t; } }

    /// <summary>Correct / total (0 when empty).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Samples whose true class is <paramref name="k"/> (the row sum).</summary>
    public long Support(int k) { long t = 0; for (int j = 0; j < Classes; j++) t += _counts[k, j]; return t; }

    /// <summary>Samples predicted as <paramref name="k"/> (the column sum).</summary>
    public long PredictedCount(int k) { long t = 0; for (int i = 0; i < Classes; i++) t += _counts[i, k]; return t; }

    /// <summary>The counts as rows (true class) of columns (predicted class).</summary>
    public long[][] ToRows() =>
        Enumerable.Range(0, Classes).Select(i => Enumerable.Range(0, Classes).Select(j => _counts[i, j]).ToArray()).ToArray();

    /// <summary>The sub-matrix of the given classes (rows and columns in that order); counts outside them are dropped.</summary>
    public ConfusionMatrix Subset(IReadOnlyList<int> classes)
    {
        var sub = new ConfusionMatrix(classes.Count);
        for (int a = 0; a < classes.Count; a++)
            for (int b = 0; b < classes.Count; b++) sub._counts[a, b] = _counts[classes[a], classes[b]];
        return sub;
    }
}
