using TransferKit.Augment.Loading;

namespace TransferKit.FineTune.Training;

/// <summary>
/// Live log lines for files a loader skips: the first <see cref="SkippedFile.ConsoleLimit"/> of each loader (a cache
/// build, a training or validation loader) are named as they are met,
/// then one line says the rest are listed when the run ends (summary.json and report.html hold them all), so a folder
/// of thousands of bad files does not flood the console.
/// </summary>
static class SkipLog
{
    /// <summary>A <see cref="LoaderSummary.FileSkipped"/> handler writing "<paramref name="prefix"/>: skipped path: reason" (thread-safe).</summary>
    public static Action<SkippedFile> For(TextWriter log, string prefix)
    {
        int met = 0;
        return f =>
        {
            int n = Interlocked.Increment(ref met);
            if (n > SkippedFile.ConsoleLimit + 1) return;
            lock (log)
                log.WriteLine(n <= SkippedFile.ConsoleLimit ? $"{prefix}: skipped {f}"
                    : $"{prefix}: more files skipped; the run lists them all when it ends (summary.json, report.html)");
        };
    }
}
