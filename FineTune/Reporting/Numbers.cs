using System.Globalization;

namespace TransferKit.FineTune.Reporting;

/// <summary>
/// How TransferKit prints a rate, loss or error to people: fixed notation with a few significant digits, so that
/// 0.0000373 stands beside 0.00011 rather than 3.73E-05 beside it. Machine-read files (CSV, JSON) keep full precision.
/// </summary>
public static class Numbers
{
    /// <summary>Decimals beyond which a value prints as 0 (|v| &lt; 5·10⁻¹¹).</summary>
    public const int MaxDecimals = 10;

    /// <summary><paramref name="value"/> in fixed notation with <paramref name="significant"/> significant digits (no
    /// trailing zeros after the point; integers as they are); NaN and infinities as .NET writes them.</summary>
    public static string Fixed(double value, int significant = 3)
    {
        if (!double.IsFinite(value)) return value.ToString(CultureInfo.InvariantCulture);
        if (value == 0) return "0";
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        int decimals = Math.Clamp(significant - 1 - magnitude, 0, MaxDecimals);
        var text = Math.Round(value, decimals, MidpointRounding.AwayFromZero).ToString("F" + decimals, CultureInfo.InvariantCulture);
        if (text.Contains('.')) text = text.TrimEnd('0').TrimEnd('.');
        return text == "-0" ? "0" : text;
    }
}
