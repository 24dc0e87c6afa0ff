using System.Globalization;
using System.Text;
using Spectre.Console;

namespace TransferKit.FineTune.Tuning;

/// <summary>The table of trials, as trials.csv and as a console table (one row per trial, one column per dimension).</summary>
public static class TrialTable
{
    /// <summary>
    /// CSV with a header: trial, status, val_accuracy, val_loss, best_epoch, epochs_run, seconds, one column per dimension
    /// (snake_case), folder, error. Fields holding commas, quotes or line breaks are quoted.
    /// </summary>
    public static string ToCsv(SearchSpace space, IEnumerable<TrialRecord> trials)
    {
        var sb = new StringBuilder();
        var header = new[] { "trial", "status", "val_accuracy", "val_loss", "best_epoch", "epochs_run", "seconds" }
            .Concat(space.Dimensions.Select(d => d.Name.Replace('-', '_'))).Concat(["folder", "error"]);
        sb.Append(string.Join(",", header)).Append('\n');
        foreach (var t in trials)
        {
            var fields = new[]
            {
                t.Number.ToString(CultureInfo.InvariantCulture), t.Status.ToString().ToLowerInvariant(), F(t.ValAccuracy), F(t.ValLoss),
                t.BestEpoch.ToString(CultureInfo.InvariantCulture), t.EpochsRun.ToString(CultureInfo.InvariantCulture), F(t.Seconds),
            }.Concat(space.Dimensions.Select(d => t.Configuration.Format(d.Name))).Concat([t.Folder, t.Error ?? ""]);
            sb.Append(string.Join(",", fields.Select(Quote))).Append('\n');
        }
        return sb.ToString();
    }

    static string F(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    /// <summary>The console table: trial, each dimension, validation accuracy, epochs run, pruned, seconds; the best row marked.</summary>
    public static Table Render(SearchSpace space, IReadOnlyList<TrialRecord> trials, TrialRecord? best)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("trial").RightAligned());
        foreach (var d in space.Dimensions) table.AddColumn(new TableColumn(Markup.Escape(d.Name)) { Alignment = d is LogUniformDimension ? Justify.Right : Justify.Left });
        table.AddColumn(new TableColumn("val acc").RightAligned());
        table.AddColumn(new TableColumn("epochs").RightAligned());
        table.AddColumn(new TableColumn("pruned"));
        table.AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var t in trials)
        {
            bool isBest = ReferenceEquals(t, best);
            string Cell(string text) => isBest ? $"[bold green]{Markup.Escape(text)}[/]" : Markup.Escape(text);
            var cells = new List<string> { Cell(t.Number.ToString(CultureInfo.InvariantCulture) + (isBest ? " *" : "")) };
            cells.AddRange(space.Dimensions.Select(d => Cell(t.Configuration.Format(d.Name))));
            cells.Add(Cell(t.Status == TrialStatus.Failed ? "failed" : t.ValAccuracy.ToString("P1", CultureInfo.InvariantCulture)));
            cells.Add(Cell(t.EpochsRun.ToString(CultureInfo.InvariantCulture)));
            cells.Add(Cell(t.Status switch { TrialStatus.Pruned => "yes", TrialStatus.Failed => "failed", _ => "no" }));
            cells.Add(Cell(t.Seconds.ToString("F1", CultureInfo.InvariantCulture)));
            table.AddRow(cells.ToArray());
        }
        if (best != null) table.Caption($"* best: trial {best.Number}");
        return table;
    }
}
