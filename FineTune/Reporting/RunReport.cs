using System.Globalization;
using System.Net;
using System.Text;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Presets;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Reporting;

/// <summary>
/// Writes RUN_DIR/report.html with its charts and thumbnails in RUN_DIR/report/: a header with the run summary, loss,
/// accuracy and learning-rate curves, the best epoch's validation confusion matrix, per-class precision/recall (chart
/// and table), the validation images with the highest loss and every skipped file with its reason. Every file is written atomically; report.html last,
/// so it never references a picture that is not there yet.
/// </summary>
public static class RunReport
{
    public const string HtmlFile = "report.html";
    public const string AssetFolder = "report";

    /// <summary>How many highest-loss validation images are shown.</summary>
    public const int TopLosses = 16;

    /// <summary>Above this many classes the confusion matrix is shown only as a picture, not as a table.</summary>
    public const int MaxTableClasses = 40;

    /// <summary>Renders the report's pictures (<see cref="Render"/>) and writes it.</summary>
    public static RunReportFiles Write(string runDir, ReportData data) =>
        Write(runDir, data, Render(data.Epochs, data.Summary.BestEpoch, data.BestValidation, data.ClassNames, data.Validation, data.Preprocessing));

    /// <summary>
    /// The report's pictures — curves, confusion matrix, per-class chart, highest-loss thumbnails — from what they show
    /// alone, so they can be rendered while the run still exports and checks its model (the summary in the header
    /// comes after). <paramref name="classNames"/> names the model's outputs given their count.
    /// </summary>
    public static ReportCharts Render(IReadOnlyList<EpochMetrics> epochs, int bestEpoch, ValidationPass? validation,
        Func<int, IReadOnlyList<string>> classNames, ImageDataset validationSet, Preprocessing preprocessing)
    {
        var charts = new ReportCharts { BestEpoch = bestEpoch };
        if (epochs.Count > 0)
        {
            charts.Loss = Plots.Loss(epochs, bestEpoch);
            charts.Accuracy = Plots.Accuracy(epochs, bestEpoch);
            charts.LearningRate = Plots.LearningRate(epochs);
        }
        var v = validation;
        if (v == null || v.Count == 0) return charts;
        var names = classNames(v.Classes);
        var matrix = new ConfusionMatrix(v.Classes);
        for (int i = 0; i < v.Count; i++) matrix.Add(v.Labels[i], v.Predicted(i));
        charts.Names = names; charts.Matrix = matrix; charts.Metrics = ClassMetrics.Compute(matrix, names);
        var shown = charts.Shown;
        charts.Confusion = Plots.Confusion(charts.ShownMatrix!, shown.Select(m => m.Name).ToList());
        charts.PerClass = Plots.PrecisionRecall(shown);
        // Highest-loss validation images.
        var worst = Enumerable.Range(0, v.Count).Select(i => (Index: i, Loss: v.SampleLoss(i)))
            .OrderByDescending(t => t.Loss).ThenBy(t => v.Samples[t.Index]).Take(TopLosses).ToList();
        using var thumbs = new Thumbnails(preprocessing);
        var thumbnails = new List<ReportCharts.Thumbnail>();
        foreach (var (i, loss) in worst)
        {
            var source = validationSet.GetSource(v.Samples[i]);
            byte[]? png = null; string? unreadable = null;
            try { png = thumbs.Render(source); }
            catch (ImageDecodeException e) { unreadable = e.Reason; }
            thumbnails.Add(new ReportCharts.Thumbnail(i, loss, source.Path, png, unreadable));
        }
        charts.Worst = thumbnails;
        return charts;
    }

    /// <summary>Writes the report with pictures <see cref="Render"/> made for this run (its best epoch the summary's).</summary>
    public static RunReportFiles Write(string runDir, ReportData data, ReportCharts charts)
    {
        if (charts.BestEpoch != data.Summary.BestEpoch)
            throw new ArgumentException($"The pictures mark epoch {charts.BestEpoch} as best; the summary says {data.Summary.BestEpoch}.", nameof(charts));
        var assets = Path.Combine(runDir, AssetFolder);
        Directory.CreateDirectory(assets);
        var images = new List<string>();
        string Save(string name, byte[] png)
        {
            var relative = AssetFolder + "/" + name;
            ImageIO.WriteAtomically(Path.Combine(assets, name), png);
            images.Add(relative);
            return relative;
        }

        var s = data.Summary;
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>TransferKit run: {{E(Path.GetFileName(data.Options.Model))}} on {{E(Path.GetFileName(Path.TrimEndingDirectorySeparator(data.Options.Data)))}}</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            table.summary th, table.summary td { text-align: left; }
            table.summary th { background: #f4f4f4; }
            td.diag { background: #dbe9f6; font-weight: bold; }
            figure.thumb { display: inline-block; margin: 6px; width: {{Thumbnails.Size + 40}}px; vertical-align: top; font-size: 12px; }
            figure.thumb img { display: block; width: {{Thumbnails.Size}}px; height: {{Thumbnails.Size}}px; image-rendering: pixelated; }
            .wrong { color: #b00; }
            </style></head><body>
            <h1>Fine-tune run report</h1>

            """);

        // Header: the run summary.
        var o = data.Options;
        html.Append("<table class=\"summary\">\n");
        Row(html, "Model", o.Model);
        Row(html, "Data", o.Val != null ? $"{o.Data} (validation: {o.Val})" : o.Data);
        Row(html, "Recipe", $"{s.Recipe}: {o.Epochs} epochs, batch {o.Batch}, {o.Optimizer} lr {TransferKit.FineTune.Reporting.Numbers.Fixed(o.Lr)}, schedule {o.Schedule}, augment {Training.JobSetup.AugmentLevelFor(o)}, seed {o.Seed}{(s.FeatureCache ? ", frozen-prefix feature cache" : "")}");
        Row(html, "Preprocessing", data.Preprocessing.Name);
        Row(html, "Classes", $"{s.Classes.Length}: {string.Join(", ", s.Classes)}");
        Row(html, "Images", $"{s.TrainImages} training, {s.ValImages} validation");
        Row(html, "Validation accuracy", $"{F(100 * s.ValAccuracy, "F2")} % (best epoch {s.BestEpoch} of {s.EpochsRun})");
        Row(html, "Wall time", $"{F(s.WallSeconds, "F1")} s");
        Row(html, "Skipped files", s.SkippedFiles.ToString(CultureInfo.InvariantCulture) + (s.Skipped.Count > 0 ? " (listed below)" : ""));
        Row(html, "Tuned model", $"{s.TunedModel} (ONNX Runtime max |Δ| {TransferKit.FineTune.Reporting.Numbers.Fixed(s.ExportParityMaxAbs)})");
        html.Append("</table>\n");

        // Curves.
        if (data.Epochs.Count > 0)
        {
            html.Append("<h2>Training curves</h2>\n");
            Img(html, Save("loss.png", charts.Loss!), "Training and validation loss per epoch");
            Img(html, Save("accuracy.png", charts.Accuracy!), "Training and validation accuracy per epoch");
            Img(html, Save("learning-rate.png", charts.LearningRate!), "Learning rate per epoch");
        }

        var v = data.BestValidation;
        var matrix = charts.Matrix;
        IReadOnlyList<ClassMetrics> metrics = charts.Metrics;
        if (v != null && v.Count > 0 && matrix != null)
        {
            var names = charts.Names;
            var shown = charts.Shown;
            var sub = charts.ShownMatrix!;
            html.Append($"<h2>Confusion matrix</h2>\n<p>Validation set at the best epoch ({s.BestEpoch}): {matrix.Total} images, {matrix.Correct} correct ({F(100 * matrix.Accuracy, "F2")} %). Rows: true class; columns: predicted class.</p>\n");
            Img(html, Save("confusion-matrix.png", charts.Confusion!), "Confusion matrix");
            if (shown.Count <= MaxTableClasses)
            {
                html.Append("<table id=\"confusion-matrix\">\n<tr><th>true \\ predicted</th>");
                foreach (var m in shown) html.Append($"<th>{E(m.Name)}</th>");
                html.Append("</tr>\n");
                for (int a = 0; a < shown.Count; a++)
                {
                    html.Append($"<tr><th>{E(shown[a].Name)}</th>");
                    for (int b = 0; b < shown.Count; b++)
                        html.Append($"<td class=\"count{(a == b ? " diag" : "")}\">{sub[a, b]}</td>");
                    html.Append("</tr>\n");
                }
                html.Append("</table>\n");
            }

            html.Append("<h2>Per-class precision and recall</h2>\n");
            Img(html, Save("per-class.png", charts.PerClass!), "Precision and recall per class");
            var macro = ClassMetrics.MacroAverage(shown);
            html.Append("<table id=\"per-class\">\n<tr><th>class</th><th>support</th><th>predicted</th><th>precision</th><th>recall</th><th>F1</th></tr>\n");
            foreach (var m in shown)
                html.Append($"<tr><td>{E(m.Name)}</td><td>{m.Support}</td><td>{m.Predicted}</td><td>{F(m.Precision, "F3")}</td><td>{F(m.Recall, "F3")}</td><td>{F(m.F1, "F3")}</td></tr>\n");
            html.Append($"<tr><th>macro average</th><td>{matrix.Total}</td><td></td><td>{F(macro.Precision, "F3")}</td><td>{F(macro.Recall, "F3")}</td><td>{F(macro.F1, "F3")}</td></tr>\n</table>\n");

            var worst = charts.Worst;
            html.Append($"<h2>Highest-loss validation images</h2>\n<p>The {worst.Count} validation images with the highest cross-entropy −log p(true class) at the best epoch.</p>\n<div class=\"thumbs\">\n");
            for (int r = 0; r < worst.Count; r++)
            {
                var (i, loss, file, png, unreadable) = worst[r];
                int sample = v.Samples[i], predicted = v.Predicted(i);
                string label = file != null ? Path.GetFileName(file) : $"sample {sample}";
                string img = png != null
                    ? $"<img src=\"{E(Save($"top-loss-{r + 1:D2}.png", png))}\" alt=\"{E(label)}\">"
                    : $"<p class=\"wrong\">unreadable: {E(unreadable ?? "")}</p>";
                html.Append($"<figure class=\"thumb\">{img}<figcaption>true <b>{E(names[v.Labels[i]])}</b><br>")
                    .Append($"<span class=\"{(predicted == v.Labels[i] ? "" : "wrong")}\">predicted <b>{E(names[predicted])}</b> ({F(100 * v.Probability(i, predicted), "F1")} %)</span><br>")
                    .Append($"loss {F(loss, "F3")}<br><span title=\"{E(file ?? label)}\">{E(label)}</span></figcaption></figure>\n");
            }
            html.Append("</div>\n");
        }
        else html.Append("<p>No validation predictions: no epoch ran.</p>\n");

        // Every skipped file, with why.
        if (s.Skipped.Count > 0)
        {
            html.Append($"<h2>Skipped files</h2>\n<p>{s.Skipped.Count} file{(s.Skipped.Count == 1 ? " was" : "s were")} left out of training and validation (paths relative to {E(o.Data)} where inside it).</p>\n");
            html.Append("<table id=\"skipped\" class=\"summary\">\n<tr><th>file</th><th>reason</th></tr>\n");
            foreach (var f in s.Skipped.Select(f => f.RelativeTo(o.Data)))
                html.Append($"<tr><td>{E(f.Path)}</td><td>{E(f.Reason)}</td></tr>\n");
            html.Append("</table>\n");
        }

        html.Append($"<p><small>Written by TransferKit on {DateTime.Now.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}.</small></p>\n</body></html>\n");
        var path = Path.Combine(runDir, HtmlFile);
        ImageIO.WriteAtomically(path, Encoding.UTF8.GetBytes(html.ToString()));
        return new RunReportFiles(path, images, matrix, metrics);
    }

    static void Row(StringBuilder html, string name, string value) => html.Append($"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>\n");

    static void Img(StringBuilder html, string src, string alt) => html.Append($"<p><img src=\"{E(src)}\" alt=\"{E(alt)}\"></p>\n");

    static string E(string s) => WebUtility.HtmlEncode(s);

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
