namespace TransferKit.FineTune.Tuning;

/// <summary>Proposes the next configuration to try from the trials finished so far.</summary>
public interface ISampler
{
    /// <summary>The next configuration, or null when the sampler has nothing more to propose (a finished grid).</summary>
    Configuration? Next(IReadOnlyList<Observation> history);
}
