namespace TransferKit.FineTune.Tuning;

/// <summary>Decides after an epoch whether a trial is doing so poorly that it should stop (early stopping of poor trials).</summary>
public interface ITrialPruner
{
    /// <summary>
    /// Whether to stop the trial whose per-epoch validation accuracies so far are <paramref name="curve"/> (one value per
    /// epoch, the last just finished), given the curves of the trials that ran before it (complete or stopped early).
    /// </summary>
    bool ShouldStop(IReadOnlyList<double> curve, IReadOnlyList<IReadOnlyList<double>> earlier);

    /// <summary>How the rule is written in tables and logs.</summary>
    string Describe();
}
