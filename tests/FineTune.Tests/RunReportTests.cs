using System.Globalization;
using System.Text.RegularExpressions;
using TransferKit.Augment.Imaging;
using TransferKit.FineTune.Reporting;

namespace TransferKit.FineTune.Tests;

/// <summary>The report.html a fine-tune run writes: its pictures exist and decode, and its numbers agree with the run.</summary>
public partial class RunReportTests(TinyMnistRun run) : IClassFixture<TinyMnistRun>
{
    /// <summary>Accuracy recomputed from the report's table vs the summary's (the same counts, so only rounding).</summary>
    const double AccuracyTolerance = 1e-12;

    string Html => File.ReadAllText(Path.Combine(run.Run, RunReport.HtmlFile));

    [Fact]
    public void EveryReferencedPictureExistsAndDecodes()
    {
        var sources = ImgSrc().Matches(Html).Select(m => m.Groups[1].Value).ToList();
        int valImages = TinyMnistRun.Classes * TinyMnistRun.ValPerClass;
        foreach (var chart in new[] { "loss.png", "accuracy.png", "learning-rate.png", "confusion-matrix.png", "per-class.png" })
            Assert.Contains($"{RunReport.AssetFolder}/{chart}", sources);
        Assert.Equal(Math.Min(RunReport.TopLosses, valImages), sources.Count(s => s.Contains("top-loss-")));
        foreach (var src in sources)
        {
            Assert.False(Path.IsPathRooted(src), $"{src} should be relative to the run folder");
            var path = Path.Combine(run.Run, src);
            Assert.True(File.Exists(path), $"{src} is referenced but missing");
            var image = ImageIO.Load(path);
            Assert.True(image.Width > 0 && image.Height > 0, src);
            // A chart or thumbnail is not one flat colour.
            var pixels = image.Pixels;
            Assert.True(pixels.ToArray().Distinct().Count() > 1, $"{src} is blank");
        }
        // Thumbnails are framed to the thumbnail size by the Augment pipeline.
        var thumb = ImageIO.ReadHeader(Path.Combine(run.Run, sources.First(s => s.Contains("top-loss-"))));
        Assert.Equal((Thumbnails.Size, Thumbnails.Size), (thumb.Width, thumb.Height));
    }

    [Fact]
    public void ConfusionMatrixCountsTheValidationImagesAndGivesTheAccuracy()
    {
        var table = ConfusionTable().Match(Html);
        Assert.True(table.Success, "report.html has no confusion-matrix table");
        var rows = Regex.Matches(table.Value, "<tr>(.*?)</tr>", RegexOptions.Singleline).Skip(1)
            .Select(r => CountCell().Matches(r.Value).Select(c => long.Parse(c.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(TinyMnistRun.Classes, rows.Length);
        Assert.All(rows, r => Assert.Equal(TinyMnistRun.Classes, r.Length));
        long total = rows.Sum(r => r.Sum()), diagonal = Enumerable.Range(0, rows.Length).Sum(i => rows[i][i]);
        Assert.Equal(run.Summary.ValImages - run.Summary.SkippedFiles, total);
        Assert.Equal(run.Summary.ValAccuracy, (double)diagonal / total, AccuracyTolerance);
        // Each row holds one class's validation images.
        Assert.All(rows, r => Assert.Equal(TinyMnistRun.ValPerClass, r.Sum()));
        // The diagonal cells are the ones marked.
        Assert.Equal(TinyMnistRun.Classes, Regex.Matches(table.Value, "class=\"count diag\"").Count);
    }

    [Fact]
    public void HeaderAndPerClassTableDescribeTheRun()
    {
        var html = Html;
        foreach (var field in new[] { "Model", "Data", "Recipe", "Validation accuracy", "Wall time", "Skipped files" })
            Assert.Contains($"<th>{field}</th>", html);
        Assert.Contains("mnist-8.onnx", html);
        Assert.Contains((100 * run.Summary.ValAccuracy).ToString("F2", CultureInfo.InvariantCulture) + " %", html);
        Assert.Contains($"best epoch {run.Summary.BestEpoch} of {run.Summary.EpochsRun}", html);
        var perClass = Regex.Match(html, "<table id=\"per-class\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(perClass.Success);
        // One row per class plus the header and the macro average; supports add up to the validation images.
        var supports = Regex.Matches(perClass.Value, "<tr><td>[^<]*</td><td>(\\d+)</td>").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(TinyMnistRun.Classes, supports.Count);
        Assert.Equal(run.Summary.ValImages, supports.Sum());
        // Written atomically: no temporary files remain.
        Assert.Empty(Directory.GetFiles(run.Run, "*.tmp-*", SearchOption.AllDirectories));
    }

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImgSrc();

    [GeneratedRegex("<table id=\"confusion-matrix\">.*?</table>", RegexOptions.Singleline)]
    private static partial Regex ConfusionTable();

    [GeneratedRegex("<td class=\"count( diag)?\">(\\d+)</td>")]
    private static partial Regex CountCell();
}
