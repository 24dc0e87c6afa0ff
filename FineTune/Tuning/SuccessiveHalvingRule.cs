namespace TransferKit.FineTune.Tuning;

/// <summary>
/// Asynchronous successive halving (Li et al., "A system for massively parallel hyperparameter tuning", MLSys 2020),
/// one trial at a time: rungs sit at epochs r, r·η, r·η², … (r = <see cref="MinEpochs"/>, η = <see cref="Reduction"/>).
/// A trial reaching a rung goes on only if its best accuracy so far ranks among the top max(1, ⌊n/η⌋) of the n trials
/// that reached that rung, itself included; otherwise it stops there. Epochs between rungs are never judged.
/// </summary>
public sealed class SuccessiveHalvingRule(int minEpochs = 1, int reduction = 3) : ITrialPruner
{
    public int MinEpochs { get; } = minEpochs >= 1 ? minEpochs : throw new ArgumentException("The first rung must be at epoch 1 or later.");
    public int Reduction { get; } = reduction >= 2 ? reduction : throw new ArgumentException("Successive halving needs a reduction factor of at least 2.");

    /// <summary>Whether epoch <paramref name="epoch"/> (1-based) is a rung.</summary>
    public bool IsRung(int epoch)
    {
        for (long r = MinEpochs; r <= epoch; r *= Reduction) if (r == epoch) return true;
        return false;
    }

    public bool ShouldStop(IReadOnlyList<double> curve, IReadOnlyList<IReadOnlyList<double>> earlier)
    {
        int s = curve.Count;
        if (s == 0 || !IsRung(s)) return false;
        double mine = MedianStoppingRule.BestSoFar(curve, s);
        var others = earlier.Where(c => c.Count >= s).Select(c => MedianStoppingRule.BestSoFar(c, s)).ToArray();
        int keep = Math.Max(1, (others.Length + 1) / Reduction);
        int better = others.Count(v => v > mine);
        return better >= keep;
    }

    public string Describe() => $"successive halving (rungs at epoch {MinEpochs}, ×{Reduction}; top 1/{Reduction} go on)";
}
