namespace TransferKit.FineTune.Tuning;

/// <summary>Independent draws from the space (log-uniform numbers, uniform choices); the same seed gives the same sequence.</summary>
public sealed class RandomSampler(SearchSpace space, int seed) : ISampler
{
    readonly Random _random = new(seed);

    public Configuration? Next(IReadOnlyList<Observation> history) => space.Sample(_random);
}
