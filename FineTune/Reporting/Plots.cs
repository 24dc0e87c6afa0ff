using ScottPlot;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Reporting;

/// <summary>
/// The report's charts, drawn with ScottPlot and returned as PNG bytes: per-epoch curves (loss, accuracy, learning
/// rate), the confusion matrix as a heat map, and per-class precision and recall as grouped bars.
/// </summary>
public static class Plots
{
    /// <summary>Size of a chart in pixels.</summary>
    public const int Width = 720, Height = 400;

    /// <summary>Above this many classes the confusion heat map and bar chart leave out per-cell numbers and tick labels.</summary>
    public const int MaxLabelledClasses = 20;

    static readonly Color TrainColor = Color.FromHex("#1f77b4"), ValColor = Color.FromHex("#d62728"), BestColor = Color.FromHex("#2ca02c");

    /// <summary>Training and validation loss per epoch; a dashed line marks the best epoch.</summary>
    public static byte[] Loss(IReadOnlyList<EpochMetrics> epochs, int bestEpoch) =>
        Curves("Loss", "cross-entropy", epochs, [("train", TrainColor, m => m.TrainLoss), ("validation", ValColor, m => m.ValLoss)], bestEpoch, null);

    /// <summary>Training and validation accuracy per epoch (percent).</summary>
    public static byte[] Accuracy(IReadOnlyList<EpochMetrics> epochs, int bestEpoch) =>
        Curves("Accuracy", "accuracy (%)", epochs, [("train", TrainColor, m => 100 * m.TrainAccuracy), ("validation", ValColor, m => 100 * m.ValAccuracy)], bestEpoch,
            PercentRange(epochs.SelectMany(m => new[] { 100 * m.TrainAccuracy, 100 * m.ValAccuracy })));

    /// <summary>Smallest margin (percentage points) around the data on a zoomed percent axis.</summary>
    public const double MinPercentMargin = 2;

    /// <summary>
    /// The percent axis of a chart zoomed to its data: the values' range with a margin of a tenth of it (at least
    /// <see cref="MinPercentMargin"/> points) on each side, kept inside 0–100 and on whole points; 0–100 without data.
    /// </summary>
    public static (double Min, double Max) PercentRange(IEnumerable<double> percents)
    {
        var v = percents.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return (0, 100);
        double lo = v.Min(), hi = v.Max(), margin = Math.Max(MinPercentMargin, (hi - lo) / 10);
        return (Math.Max(0, Math.Floor(lo - margin)), Math.Min(100, Math.Ceiling(hi + margin)));
    }

    /// <summary>The head's learning rate at the end of each epoch.</summary>
    public static byte[] LearningRate(IReadOnlyList<EpochMetrics> epochs) =>
        Curves("Learning rate (head, end of epoch)", "learning rate", epochs, [("learning rate", TrainColor, m => m.LearningRate)], 0, null);

    static byte[] Curves(string title, string yLabel, IReadOnlyList<EpochMetrics> epochs,
        (string Name, Color Color, Func<EpochMetrics, double> Value)[] series, int bestEpoch, (double Min, double Max)? yRange)
    {
        using var plot = NewPlot(title, "epoch", yLabel);
        double[] xs = epochs.Select(m => (double)m.Epoch).ToArray();
        foreach (var (name, color, value) in series)
        {
            var line = plot.Add.Scatter(xs, epochs.Select(value).ToArray(), color);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        if (bestEpoch > 0)
        {
            var best = plot.Add.VerticalLine(bestEpoch, 1.5f, BestColor, LinePattern.Dashed);
            best.LegendText = $"best epoch ({bestEpoch})";
        }
        // Below the plot in one row, so the curves keep the chart's width.
        if (series.Length > 1 || bestEpoch > 0) plot.ShowLegend(Edge.Bottom);
        else plot.HideLegend();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (xs.Length > 0) plot.Axes.SetLimitsX(xs.Min() - 0.5, xs.Max() + 0.5);
        if (yRange is { } r) plot.Axes.SetLimitsY(r.Min, r.Max);
        return Png(plot);
    }

    /// <summary>Heat map of the confusion matrix (rows: true class, top to bottom; columns: predicted class).</summary>
    public static byte[] Confusion(ConfusionMatrix matrix, IReadOnlyList<string> names)
    {
        int k = matrix.Classes;
        using var plot = NewPlot("Confusion matrix (validation, best epoch)", "predicted class", "true class");
        var cells = new double[k, k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) cells[i, j] = matrix[i, j];
        var map = plot.Add.Heatmap(cells);
        map.Colormap = new ScottPlot.Colormaps.Blues().Reversed();   // white for 0, dark blue for the most
        // Cell (i, j) is centred on x = j, y = k − 1 − i so row 0 (the first class) is at the top.
        map.Extent = new CoordinateRect(-0.5, k - 0.5, -0.5, k - 0.5);
        long max = 0;
        foreach (var row in matrix.ToRows()) max = Math.Max(max, row.Max());
        map.ManualRange = new ScottPlot.Range(0, Math.Max(1, max));   // a zero count is always white
        plot.Add.ColorBar(map);
        if (k <= MaxLabelledClasses)
        {
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    var text = plot.Add.Text(matrix[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture), j, k - 1 - i);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontSize = k <= 10 ? 14 : 10;
                    text.LabelFontColor = matrix[i, j] * 2 > max ? Colors.White : Colors.Black;
                }
            var positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
            plot.Axes.Bottom.SetTicks(positions, names.ToArray());
            plot.Axes.Left.SetTicks(positions, names.Reverse().ToArray());
        }
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        return Png(plot, Math.Max(Height, Width - 120), Height);
    }

    /// <summary>Precision and recall per class as side-by-side bars (percent).</summary>
    public static byte[] PrecisionRecall(IReadOnlyList<ClassMetrics> classes)
    {
        using var plot = NewPlot("Precision and recall per class (validation, best epoch)", "class", "percent");
        var bars = new List<Bar>();
        for (int c = 0; c < classes.Count; c++)
        {
            bars.Add(new Bar { Position = 3 * c, Value = 100 * classes[c].Precision, FillColor = TrainColor, Size = 1 });
            bars.Add(new Bar { Position = 3 * c + 1, Value = 100 * classes[c].Recall, FillColor = ValColor, Size = 1 });
        }
        plot.Add.Bars(bars);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "precision", FillColor = TrainColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "recall", FillColor = ValColor });
        plot.ShowLegend(Edge.Bottom);
        if (classes.Count <= MaxLabelledClasses)
            plot.Axes.Bottom.SetTicks(classes.Select((_, c) => 3 * c + 0.5).ToArray(), classes.Select(m => m.Name).ToArray());
        plot.Axes.SetLimits(-1, 3 * classes.Count - 1, 0, 105);
        return Png(plot);
    }

    /// <summary>The charts' font, named outright because fontconfig may resolve "sans-serif" to a serif face here;
    /// ScottPlot falls back to its default font when it is not installed.</summary>
    internal const string FontName = "DejaVu Sans";

    static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    static byte[] Png(Plot plot, int width = Width, int height = Height) => plot.GetImageBytes(width, height, ImageFormat.Png);
}
