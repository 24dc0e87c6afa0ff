using Microsoft.Extensions.FileSystemGlobbing;
using TransferKit.Augment.Datasets;
using TransferKit.FineTune.Cli;

namespace TransferKit.FineTune.Inference;

/// <summary>
/// The images a user names on the command line: files as they are, folders for every image file under them, and
/// globs (<c>*</c>, <c>?</c>, <c>**</c>) for the image files they match; in the order given, each folder's and glob's
/// files in ordinal order, every file once.
/// </summary>
public static class ImageArguments
{
    /// <summary>Expands <paramref name="arguments"/>; a name that is neither a file, a folder nor a glob with matches is an error naming it.</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string f) { if (seen.Add(Path.GetFullPath(f))) files.Add(f); }
        foreach (var a in arguments)
        {
            if (File.Exists(a)) { Add(a); continue; }
            if (Directory.Exists(a))
            {
                var found = Directory.EnumerateFiles(a, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.ReparsePoint })
                    .Where(IsImage).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new CliException($"The folder '{a}' holds no image files ({string.Join(", ", ImageFolderDataset.ImageExtensions)}).");
                found.ForEach(Add);
                continue;
            }
            if (a.IndexOfAny(['*', '?']) < 0) throw new CliException($"Image '{a}' does not exist.");
            var matches = Glob(a);
            if (matches.Count == 0) throw new CliException($"No image file matches '{a}'.");
            matches.ForEach(Add);
        }
        return files;
    }

    static bool IsImage(string path) => ImageFolderDataset.ImageExtensions.Contains(Path.GetExtension(path));

    /// <summary>The image files matching a glob: its leading wildcard-free folders are the root, the rest the pattern.</summary>
    static List<string> Glob(string pattern)
    {
        var parts = pattern.Replace('\\', '/').Split('/');
        int fixedParts = 0;
        while (fixedParts < parts.Length - 1 && parts[fixedParts].IndexOfAny(['*', '?']) < 0) fixedParts++;
        string root = fixedParts == 0 ? "." : string.Join('/', parts[..fixedParts]);
        if (pattern.StartsWith('/') && fixedParts == 1) root = "/";
        if (!Directory.Exists(root)) return [];
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(string.Join('/', parts[fixedParts..]));
        return matcher.GetResultsInFullPath(root).Where(IsImage)
            .Select(f => fixedParts == 0 ? Path.GetRelativePath(".", f) : Path.Combine(root, Path.GetRelativePath(root, f)))
            .Order(StringComparer.Ordinal).ToList();
    }
}
