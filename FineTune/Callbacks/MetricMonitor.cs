using System.Globalization;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Which epoch metric counts as better, as Keras' <c>monitor</c>, <c>mode</c> and <c>min_delta</c>: the metric
/// (<c>val_accuracy</c>, <c>val_loss</c>, <c>train_accuracy</c>, <c>train_loss</c>), whether higher or lower is better
/// (<c>auto</c>: higher for accuracies, lower for losses), and by how much it must move to count. An epoch whose
/// metric equals the best one exactly (with <c>min_delta</c> 0) is better when its other validation metric is: lower
/// loss for an accuracy, higher accuracy for a loss — the run's rule since before monitors could be chosen (highest
/// validation accuracy, ties to the lower validation loss), which stays the default.
/// </summary>
public sealed class MetricMonitor
{
    /// <summary>The metrics a monitor can watch.</summary>
    public static IReadOnlyList<string> Names { get; } = ["val_accuracy", "val_loss", "train_accuracy", "train_loss"];

    /// <summary>The modes: auto, min, max.</summary>
    public static IReadOnlyList<string> Modes { get; } = ["auto", "min", "max"];

    /// <summary>The default monitor: validation accuracy, higher is better, ties to the lower validation loss.</summary>
    public static MetricMonitor Default { get; } = new();

    /// <summary>A monitor of <paramref name="metric"/>; an unknown metric or mode, or a negative or non-finite delta, is an <see cref="ArgumentException"/>.</summary>
    /// <param name="metric">One of <see cref="Names"/>.</param>
    /// <param name="mode">auto, min or max (see <see cref="Modes"/>).</param>
    /// <param name="minDelta">How much the metric must improve on the best to count, ≥ 0.</param>
    public MetricMonitor(string metric = "val_accuracy", string mode = "auto", double minDelta = 0)
    {
        Check(metric, mode, minDelta);
        Metric = metric;
        Maximize = mode switch { "min" => false, "max" => true, _ => metric.EndsWith("accuracy", StringComparison.Ordinal) };
        MinDelta = minDelta;
    }

    /// <summary>The watched metric's name.</summary>
    public string Metric { get; }

    /// <summary>Whether higher is better.</summary>
    public bool Maximize { get; }

    /// <summary>The least improvement that counts.</summary>
    public double MinDelta { get; }

    /// <summary>An <see cref="ArgumentException"/> naming the CLI flag when a monitor could not be made of these values.</summary>
    public static void Check(string metric, string mode, double minDelta)
    {
        if (!Names.Contains(metric))
            throw new ArgumentException($"--early-stop-monitor '{metric}' is not a metric: {string.Join(", ", Names)}.");
        if (!Modes.Contains(mode))
            throw new ArgumentException($"--early-stop-mode '{mode}' is not a mode: {string.Join(", ", Modes)}.");
        if (!double.IsFinite(minDelta) || minDelta < 0)
            throw new ArgumentException($"--min-delta {minDelta.ToString(CultureInfo.InvariantCulture)} must be 0 or a positive number.");
    }

    /// <summary>The value of <paramref name="metric"/> in an epoch's metrics.</summary>
    public static double Value(EpochMetrics m, string metric) => metric switch
    {
        "val_accuracy" => m.ValAccuracy,
        "val_loss" => m.ValLoss,
        "train_accuracy" => m.TrainAccuracy,
        "train_loss" => m.TrainLoss,
        _ => throw new ArgumentException($"'{metric}' is not a metric: {string.Join(", ", Names)}."),
    };

    /// <summary>Whether <paramref name="current"/> is better than <paramref name="best"/> (always, when there is no best yet).</summary>
    public bool Improves(EpochMetrics current, EpochMetrics? best)
    {
        if (best == null) return true;
        double c = Value(current, Metric), b = Value(best, Metric);
        if (Maximize ? c > b + MinDelta : c < b - MinDelta) return true;
        if (MinDelta != 0 || c != b) return false;
        // An exact tie: the other validation metric decides.
        return Metric.EndsWith("accuracy", StringComparison.Ordinal)
            ? Value(current, Metric.Replace("accuracy", "loss")) < Value(best, Metric.Replace("accuracy", "loss"))
            : Value(current, Metric.Replace("loss", "accuracy")) > Value(best, Metric.Replace("loss", "accuracy"));
    }

    /// <summary>How the log names an improvement: "better validation accuracy", "lower validation loss", ….</summary>
    public string Describe() =>
        (Maximize ? (Metric.EndsWith("accuracy", StringComparison.Ordinal) ? "better " : "higher ") : "lower ")
        + (Metric.StartsWith("val", StringComparison.Ordinal) ? "validation " : "training ") + (Metric.EndsWith("accuracy", StringComparison.Ordinal) ? "accuracy" : "loss");

    /// <inheritdoc/>
    public override string ToString() => $"{Metric} ({(Maximize ? "max" : "min")}{(MinDelta > 0 ? $", min delta {MinDelta.ToString("G", CultureInfo.InvariantCulture)}" : "")})";
}
