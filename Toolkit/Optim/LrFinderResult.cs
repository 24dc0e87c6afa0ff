using System.Globalization;
using System.Text;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// What a sweep found: the curve, the suggested learning rate (steepest descent of the smoothed loss against log lr),
/// the rate at the lowest smoothed loss, whether the sweep ended before its last step, and why it stopped (null when it ran
/// to the end without diverging; set as well when the last step diverged).
/// </summary>
public sealed record LrFinderResult(IReadOnlyList<LrFinderPoint> Curve, int SuggestionIndex, int MinimumIndex, bool StoppedEarly, string? StopReason)
{
    /// <summary>The learning rate at the steepest descent of the smoothed loss (NaN when the curve has fewer than two points).</summary>
    public double SuggestedLearningRate => SuggestionIndex < 0 ? double.NaN : Curve[SuggestionIndex].LearningRate;

    /// <summary>The learning rate at the lowest smoothed loss (a tenth of it is a common, more careful choice).</summary>
    public double MinimumLearningRate => MinimumIndex < 0 ? double.NaN : Curve[MinimumIndex].LearningRate;

    public const string CsvHeader = "step,lr,loss,smoothed_loss";

    /// <summary>The curve as CSV (header, one row per step, invariant culture, round-trip precision).</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var p in Curve)
            sb.Append(CultureInfo.InvariantCulture, $"{p.Step},{p.LearningRate:R},{p.Loss:R},{p.SmoothedLoss:R}\n");
        return sb.ToString();
    }
}
