namespace TransferKit.FineTune.Reporting;

/// <summary>What <see cref="RunReport.Write"/> produced.</summary>
/// <param name="Html">Path of report.html.</param>
/// <param name="Images">The PNG files it references, relative to the run folder.</param>
/// <param name="Confusion">The best epoch's validation confusion matrix (null when no epoch ran).</param>
public sealed record RunReportFiles(string Html, IReadOnlyList<string> Images, ConfusionMatrix? Confusion, IReadOnlyList<ClassMetrics> Classes);
