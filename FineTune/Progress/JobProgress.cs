using System.Diagnostics;
using Spectre.Console;

namespace TransferKit.FineTune.Progress;

/// <summary>
/// Progress of long work (feature-cache builds, training epochs): a live bar with loss, accuracy, images per second
/// and time left on an interactive terminal (Spectre.Console), or plain lines at a fixed period when output is
/// redirected, so logs stay readable.
/// </summary>
public abstract class JobProgress
{
    /// <summary>Runs <paramref name="work"/>, which reports (done, total, status) as it goes.</summary>
    public abstract T Run<T>(string title, Func<Action<int, int, string>, T> work);

    /// <summary>A live bar when <paramref name="log"/> is the console of an interactive terminal; plain lines otherwise.</summary>
    public static JobProgress For(TextWriter log, TimeSpan? period = null) =>
        ReferenceEquals(log, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? new TerminalProgress()
            : new PlainProgress(log, period ?? TimeSpan.FromSeconds(10));
}

/// <summary>A Spectre.Console progress bar (description, bar, percentage, elapsed and remaining time), cleared when done.</summary>
sealed class TerminalProgress : JobProgress
{
    public override T Run<T>(string title, Func<Action<int, int, string>, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                return work((done, total, status) =>
                {
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                    task.Description = Markup.Escape(string.IsNullOrEmpty(status) ? title : $"{title}  {status}");
                });
            });
}

/// <summary>One line per period (and none for work that ends sooner): "title  done/total  status  ETA".</summary>
sealed class PlainProgress(TextWriter log, TimeSpan period) : JobProgress
{
    public override T Run<T>(string title, Func<Action<int, int, string>, T> work)
    {
        var clock = Stopwatch.StartNew();
        var next = period;
        return work((done, total, status) =>
        {
            if (clock.Elapsed < next || done >= total) return;
            next = clock.Elapsed + period;
            var left = done > 0 ? TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds * (total - done) / done) : TimeSpan.Zero;
            log.WriteLine($"{title}  {done}/{total}  {status}  ETA {left:m\\:ss}");
        });
    }
}
