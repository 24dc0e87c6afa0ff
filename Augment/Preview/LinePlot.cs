using System.Globalization;
using SkiaSharp;
using TransferKit.Augment.Imaging;

namespace TransferKit.Augment.Preview;

/// <summary>
/// A plain line chart written as PNG (for learning-rate curves and the like): a linear or log-10 x axis, a linear
/// y axis with clamped range, a legend and an optional vertical marker. Text uses SkiaSharp's default typeface; when
/// no font is installed the labels may be blank but drawing still succeeds.
/// </summary>
public static class LinePlot
{
    const int Left = 72, Right = 24, Top = 36, Bottom = 48;

    /// <summary>
    /// Draws <paramref name="series"/> and writes the PNG atomically. Points outside <paramref name="yRange"/> (default:
    /// the data's range) are clamped to its edge; non-finite points are left out; with <paramref name="logX"/> x must be positive.
    /// </summary>
    public static void Save(string path, IReadOnlyList<PlotSeries> series, string title, string xLabel, string yLabel,
        bool logX = false, (double Min, double Max)? yRange = null, (double X, string Label)? marker = null, int width = 800, int height = 500)
    {
        if (width < Left + Right + 16 || height < Top + Bottom + 16) throw new ArgumentException($"A {width}×{height} plot leaves no room to draw in.");
        bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logX || x > 0);
        var points = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => Usable(p.First, p.Second)).ToList();
        if (points.Count == 0) throw new ArgumentException($"Nothing to plot in {path}: no finite points.");
        double Tx(double x) => logX ? Math.Log10(x) : x;
        double x0 = points.Min(p => Tx(p.First)), x1 = points.Max(p => Tx(p.First));
        if (x1 <= x0) x1 = x0 + 1;
        var (y0, y1) = yRange ?? (points.Min(p => p.Second), points.Max(p => p.Second));
        if (!(y1 > y0)) y1 = y0 + 1;
        double pad = (y1 - y0) * 0.04;
        y0 -= pad; y1 += pad;
        float Px(double x) => (float)(Left + (Tx(x) - x0) / (x1 - x0) * (width - Left - Right));
        float Py(double y) => (float)(Top + (y1 - Math.Clamp(y, y0, y1)) / (y1 - y0) * (height - Top - Bottom));

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var font = new SKFont(SKTypeface.Default, 12))
        using (var text = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        using (var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 })
        using (var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke })
        {
            canvas.Clear(SKColors.White);
            // Ticks: whole decades on a log axis, five even steps otherwise.
            var xTicks = logX
                ? Enumerable.Range((int)Math.Ceiling(x0), Math.Max(0, (int)Math.Floor(x1) - (int)Math.Ceiling(x0) + 1)).Select(k => (V: Math.Pow(10, k), T: $"1e{k}")).ToList()
                : Enumerable.Range(0, 6).Select(i => x0 + i * (x1 - x0) / 5).Select(v => (V: v, T: v.ToString("G3", CultureInfo.InvariantCulture))).ToList();
            foreach (var (v, t) in xTicks)
            {
                float x = Px(v);
                canvas.DrawLine(x, Top, x, height - Bottom, grid);
                canvas.DrawText(t, x, height - Bottom + 16, SKTextAlign.Center, font, text);
            }
            double step = NiceStep((y1 - y0) / 5);
            for (double t = Math.Ceiling(y0 / step) * step; t <= y1; t += step)
            {
                double v = Math.Abs(t) < step * 1e-9 ? 0 : t;   // no "-0" label
                float y = Py(v);
                canvas.DrawLine(Left, y, width - Right, y, grid);
                canvas.DrawText(v.ToString("G3", CultureInfo.InvariantCulture), Left - 6, y + 4, SKTextAlign.Right, font, text);
            }
            canvas.DrawRect(Left, Top, width - Left - Right, height - Top - Bottom, axis);
            canvas.DrawText(title, width / 2f, Top - 14, SKTextAlign.Center, font, text);
            canvas.DrawText(xLabel, (Left + width - Right) / 2f, height - 10, SKTextAlign.Center, font, text);
            canvas.Save();
            canvas.RotateDegrees(-90, 14, (Top + height - Bottom) / 2f);
            canvas.DrawText(yLabel, 14, (Top + height - Bottom) / 2f, SKTextAlign.Center, font, text);
            canvas.Restore();

            canvas.Save();
            canvas.ClipRect(new SKRect(Left, Top, width - Right, height - Bottom));
            foreach (var s in series)
            {
                using var pen = new SKPaint { Color = Colour(s.Color), StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
                using var line = new SKPath();
                bool open = false;
                for (int i = 0; i < Math.Min(s.X.Count, s.Y.Count); i++)
                {
                    if (!Usable(s.X[i], s.Y[i])) { open = false; continue; }
                    if (open) line.LineTo(Px(s.X[i]), Py(s.Y[i]));
                    else { line.MoveTo(Px(s.X[i]), Py(s.Y[i])); open = true; }
                }
                canvas.DrawPath(line, pen);
            }
            if (marker is { } m && Usable(m.X, 0))
            {
                using var dash = new SKPaint { Color = new SKColor(200, 30, 30), StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([6, 4], 0) };
                float x = Px(m.X);
                canvas.DrawLine(x, Top, x, height - Bottom, dash);
                canvas.DrawText(m.Label, x + 4, height - Bottom - 8, SKTextAlign.Left, font, text);
            }
            canvas.Restore();

            // Legend, top right, on a white box.
            using (var box = new SKPaint { Color = SKColors.White })
                canvas.DrawRect(width - Right - 156, Top + 2, 152, series.Count * 16 + 6, box);
            for (int i = 0; i < series.Count; i++)
            {
                float y = Top + 16 + i * 16;
                using var swatch = new SKPaint { Color = Colour(series[i].Color), StrokeWidth = 3 };
                canvas.DrawLine(width - Right - 150, y - 4, width - Right - 130, y - 4, swatch);
                canvas.DrawText(series[i].Label, width - Right - 124, y, SKTextAlign.Left, font, text);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        ImageIO.WriteAtomically(path, data.ToArray());
    }

    /// <summary>The smallest of 1, 2, 5 × 10^k that is at least <paramref name="rough"/>.</summary>
    static double NiceStep(double rough)
    {
        double decade = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1.0, 2, 5, 10 }.Select(f => f * decade).First(v => v >= rough * (1 - 1e-9));
    }

    static SKColor Colour(uint rgb) => new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
}
