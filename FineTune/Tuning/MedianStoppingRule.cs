namespace TransferKit.FineTune.Tuning;

/// <summary>
/// The median stopping rule (Golovin et al., "Google Vizier", KDD 2017): after epoch s, stop a trial whose best
/// validation accuracy so far is strictly below the median of the best-so-far accuracies the earlier trials had
/// reached by their epoch s. It only judges once at least <see cref="MinTrials"/> earlier trials ran that far, and
/// never within the first <see cref="WarmupEpochs"/> epochs.
/// </summary>
public sealed class MedianStoppingRule(int minTrials = 3, int warmupEpochs = 0) : ITrialPruner
{
    public int MinTrials { get; } = minTrials >= 1 ? minTrials : throw new ArgumentException("The median rule needs at least one earlier trial to compare with.");
    public int WarmupEpochs { get; } = warmupEpochs >= 0 ? warmupEpochs : throw new ArgumentException("Warm-up epochs cannot be negative.");

    public bool ShouldStop(IReadOnlyList<double> curve, IReadOnlyList<IReadOnlyList<double>> earlier)
    {
        int s = curve.Count;
        if (s == 0 || s <= WarmupEpochs) return false;
        var others = earlier.Where(c => c.Count >= s).Select(c => BestSoFar(c, s)).Order().ToArray();
        if (others.Length < MinTrials) return false;
        double median = others.Length % 2 == 1 ? others[others.Length / 2] : (others[others.Length / 2 - 1] + others[others.Length / 2]) / 2;
        return BestSoFar(curve, s) < median;
    }

    /// <summary>The largest of the first <paramref name="epochs"/> values.</summary>
    internal static double BestSoFar(IReadOnlyList<double> curve, int epochs)
    {
        double best = double.NegativeInfinity;
        for (int i = 0; i < epochs; i++) best = Math.Max(best, curve[i]);
        return best;
    }

    public string Describe() => $"median stopping (after ≥{MinTrials} earlier trials{(WarmupEpochs > 0 ? $", from epoch {WarmupEpochs + 1}" : "")})";
}
