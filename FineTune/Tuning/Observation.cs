namespace TransferKit.FineTune.Tuning;

/// <summary>What a sampler learns from a finished trial: where it was, how it ended and its score (higher is better).</summary>
public sealed record Observation(Configuration Configuration, TrialStatus Status, double Score)
{
    /// <summary>
    /// Best first: complete trials by score, then pruned ones by score (their score stopped short), then failed ones;
    /// ties keep their order.
    /// </summary>
    public static IReadOnlyList<Observation> BestFirst(IEnumerable<Observation> observations) =>
        observations.Select((o, i) => (o, i))
            .OrderBy(p => p.o.Status)
            .ThenByDescending(p => double.IsNaN(p.o.Score) ? double.NegativeInfinity : p.o.Score)
            .ThenBy(p => p.i)
            .Select(p => p.o).ToArray();
}
