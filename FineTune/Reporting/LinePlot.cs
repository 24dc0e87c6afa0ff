using ScottPlot;
using TransferKit.Augment.Imaging;

namespace TransferKit.FineTune.Reporting;

/// <summary>One line of a <see cref="LinePlot"/>: its legend label, points and colour (0xRRGGBB).</summary>
public sealed record PlotSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, uint Color);

/// <summary>
/// A plain line chart written as PNG with ScottPlot, like the report's <see cref="Plots"/> (learning-rate curves and the
/// like): a linear or log-10 x axis, a linear y axis with clamped range, a legend and an optional dashed vertical marker.
/// </summary>
public static class LinePlot
{
    /// <summary>Smallest plot side accepted, in pixels.</summary>
    public const int MinSide = 120;

    /// <summary>
    /// Draws <paramref name="series"/> and writes the PNG atomically. Points outside <paramref name="yRange"/> (default:
    /// the data's range) are clamped to its edge; non-finite points are left out; with <paramref name="logX"/> x must be positive.
    /// </summary>
    public static void Save(string path, IReadOnlyList<PlotSeries> series, string title, string xLabel, string yLabel,
        bool logX = false, (double Min, double Max)? yRange = null, (double X, string Label)? marker = null, int width = 800, int height = 500)
    {
        if (width < MinSide || height < MinSide) throw new ArgumentException($"A {width}×{height} plot leaves no room to draw in.");
        bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logX || x > 0);
        var all = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => Usable(p.First, p.Second)).ToList();
        if (all.Count == 0) throw new ArgumentException($"Nothing to plot in {path}: no finite points.");
        double Tx(double x) => logX ? Math.Log10(x) : x;
        var (y0, y1) = yRange ?? (all.Min(p => p.Second), all.Max(p => p.Second));
        if (!(y1 > y0)) y1 = y0 + 1;

        using var plot = new Plot();
        plot.Font.Set(Plots.FontName);
        plot.Title(title);
        plot.XLabel(logX ? $"{xLabel} (log scale)" : xLabel);
        plot.YLabel(yLabel);
        foreach (var s in series)
        {
            var points = s.X.Zip(s.Y).Where(p => Usable(p.First, p.Second)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => Tx(p.First)).ToArray(), points.Select(p => Math.Clamp(p.Second, y0, y1)).ToArray(),
                Color.FromARGB(0xFF000000 | s.Color));
            line.LegendText = s.Label;
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        if (marker is var (mx, label) && Usable(mx, 0))
        {
            var v = plot.Add.VerticalLine(Tx(mx), 1.5f, Color.FromHex("#c81e1e"), LinePattern.Dashed);
            v.LegendText = label;
        }
        if (logX)
        {
            // Ticks at powers of ten, labelled as learning rates rather than exponents.
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = e => Math.Pow(10, e).ToString("G3", System.Globalization.CultureInfo.InvariantCulture) };
            plot.Axes.Bottom.TickGenerator = ticks;
        }
        double pad = (y1 - y0) * 0.04;
        plot.Axes.SetLimitsY(y0 - pad, y1 + pad);
        plot.ShowLegend(Edge.Bottom);
        ImageIO.WriteAtomically(path, plot.GetImageBytes(width, height, ImageFormat.Png));
    }
}
