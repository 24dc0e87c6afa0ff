namespace TransferKit.FineTune.Tuning;

/// <summary>What a search produced: every trial in order, the best one (null when all failed) and the files written.</summary>
public sealed record TuneResult(IReadOnlyList<TrialRecord> Trials, TrialRecord? Best, string TrialsCsv, string? BestConfig);
