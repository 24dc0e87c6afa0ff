using System.Text;

namespace TransferKit.Augment.Loading;

/// <summary>A file (or directory) that could not be used, and why.</summary>
/// <param name="Index">The sample's index in its dataset, or -1 for an entry the dataset's listing left out.</param>
/// <param name="Path">The file as the dataset lists it (see <see cref="RelativeTo"/> for reports).</param>
/// <param name="Reason">Why it was skipped, without the path (e.g. "unsupported format .tiff").</param>
public sealed record SkippedFile(int Index, string Path, string Reason)
{
    /// <summary>How many skipped files a console listing shows before "… and K more".</summary>
    public const int ConsoleLimit = 10;

    public override string ToString() => $"{Path}: {Reason}";

    /// <summary>
    /// The same entry with its path relative to <paramref name="root"/> when it lies inside that folder (the form
    /// summaries and reports use), else unchanged.
    /// </summary>
    public SkippedFile RelativeTo(string root)
    {
        var relative = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(root), System.IO.Path.GetFullPath(Path));
        bool inside = !System.IO.Path.IsPathRooted(relative) && relative != ".." && !relative.StartsWith(".." + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return inside ? this with { Path = relative } : this;
    }

    /// <summary>
    /// Distinct entries by path (the first reason met wins), in ordinal order of path: the union of a dataset's
    /// listing and what its loaders met, over phases, views and resumed runs.
    /// </summary>
    public static IReadOnlyList<SkippedFile> Union(params IEnumerable<SkippedFile>[] lists)
    {
        var byPath = new Dictionary<string, SkippedFile>(StringComparer.Ordinal);
        foreach (var list in lists)
            foreach (var s in list) byPath.TryAdd(s.Path, s);
        return byPath.Values.OrderBy(s => s.Path, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// A console listing: "N files skipped:" (with "paths relative to <paramref name="relativeTo"/>" when given), then
    /// the first <paramref name="limit"/> entries one per line ("  path: reason") and "  … and K more"; empty when the
    /// list is.
    /// </summary>
    public static string ConsoleListing(IReadOnlyList<SkippedFile> skipped, string? relativeTo = null, int limit = ConsoleLimit)
    {
        if (skipped.Count == 0) return "";
        var text = new StringBuilder();
        text.Append($"{skipped.Count} file{(skipped.Count == 1 ? "" : "s")} skipped{(relativeTo != null ? $" (paths relative to {relativeTo})" : "")}:\n");
        foreach (var s in skipped.Take(limit)) text.Append($"  {(relativeTo != null ? s.RelativeTo(relativeTo) : s)}\n");
        if (skipped.Count > limit) text.Append($"  … and {skipped.Count - limit} more\n");
        return text.ToString();
    }
}
