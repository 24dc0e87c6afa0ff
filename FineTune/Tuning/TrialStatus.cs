namespace TransferKit.FineTune.Tuning;

/// <summary>How a trial ended.</summary>
public enum TrialStatus
{
    /// <summary>Ran every epoch it was given.</summary>
    Complete,
    /// <summary>Stopped early by the pruning rule because its validation accuracy lagged the others'.</summary>
    Pruned,
    /// <summary>Training broke down (the loss became NaN or infinite, or memory ran out).</summary>
    Failed,
}
