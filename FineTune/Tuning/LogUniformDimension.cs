using System.Globalization;

namespace TransferKit.FineTune.Tuning;

/// <summary>
/// A positive real searched on a log scale (learning rate, weight decay): uniform in log(x) between
/// <see cref="Low"/> and <see cref="High"/>. Low = High fixes the value (which may then be 0).
/// </summary>
public sealed class LogUniformDimension : Dimension
{
    public LogUniformDimension(string name, double low, double high) : base(name)
    {
        if (double.IsNaN(low) || double.IsNaN(high) || double.IsInfinity(low) || double.IsInfinity(high))
            throw new ArgumentException($"{name}: the range {low}:{high} is not finite.");
        if (low > high) throw new ArgumentException($"{name}: the range {Format(low)}:{Format(high)} runs backwards (low > high).");
        if (low < 0 || (low == 0 && high > 0))
            throw new ArgumentException($"{name}: a log-uniform range needs positive ends, got {Format(low)}:{Format(high)} (give a single value to fix it, 0 included).");
        Low = low;
        High = high;
    }

    public double Low { get; }
    public double High { get; }

    public override bool IsFixed => Low == High;

    /// <summary>Maps u in [0, 1] to the value at that fraction of the log range.</summary>
    public double FromUnit(double u) => IsFixed ? Low : Math.Exp(Math.Log(Low) + Math.Clamp(u, 0, 1) * (Math.Log(High) - Math.Log(Low)));

    /// <summary>The value's fraction of the log range (0 for a fixed dimension).</summary>
    public double ToUnit(double x) => IsFixed ? 0 : (Math.Log(x) - Math.Log(Low)) / (Math.Log(High) - Math.Log(Low));

    /// <summary><paramref name="points"/> log-spaced values from Low to High inclusive (one value when fixed).</summary>
    public IReadOnlyList<double> GridValues(int points)
    {
        if (points < 1) throw new ArgumentException($"{Name}: a grid needs at least one point per dimension.");
        if (IsFixed || points == 1) return [IsFixed ? Low : FromUnit(0.5)];
        return Enumerable.Range(0, points).Select(i => FromUnit((double)i / (points - 1))).ToArray();
    }

    public override string Describe() => IsFixed ? $"{Name} {Format(Low)}" : $"{Name} {Format(Low)}:{Format(High)} (log-uniform)";

    internal static string Format(double v) => v.ToString("G4", CultureInfo.InvariantCulture).ToLowerInvariant();
}
