using TransferKit.Augment.Loading;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Datasets;

/// <summary>
/// Images in one subfolder per class (torchvision's <c>ImageFolder</c>). Class indices follow the ordinal order of
/// the folder names; files are listed in ordinal order of their relative paths, searched recursively, and kept when
/// their extension is .jpg, .jpeg, .png, .gif, .bmp, .webp or .tga (case-insensitive). Whether a file really is an image
/// is found out when it is decoded. What the walk meets but does not list is reported in <see cref="ListingSkipped"/>
/// with its reason: a file of another extension ("unsupported format .tiff"), a directory named like an image (its
/// contents are still walked), a directory link (never followed, at any depth, so a link out of the root or back into
/// it neither escapes nor repeats the walk) and an image file beside the class folders. Hidden entries (names starting
/// with '.', e.g. .DS_Store, ._photo.jpg, .ipynb_checkpoints) are left out silently, and so are other files beside the
/// class folders. A file reached twice (through file links) is listed once.
/// </summary>
public sealed class ImageFolderDataset : ImageDataset
{
    /// <summary>Extensions taken to be images.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tga"], StringComparer.OrdinalIgnoreCase);

    readonly string[] _paths;
    readonly int[] _labels;
    readonly SkippedFile[] _listingSkipped;

    ImageFolderDataset(string root, ClassMap classes, string[] paths, int[] labels, SkippedFile[] listingSkipped)
    {
        Root = root;
        Classes = classes;
        _paths = paths;
        _labels = labels;
        _listingSkipped = listingSkipped;
    }

    /// <summary>The folder the samples were found in.</summary>
    public string Root { get; }

    public override ClassMap Classes { get; }

    public override int Count => _paths.Length;

    public override int GetLabel(int index) => _labels[index];

    public override SampleSource GetSource(int index) => SampleSource.File(_paths[index]);

    /// <summary>The file of sample <paramref name="index"/>.</summary>
    public string PathOf(int index) => _paths[index];

    /// <summary>
    /// Entries the walk did not list as samples, with why (index -1, ordinal order of path). A split shares its
    /// source's list, so both sides report the same entries.
    /// </summary>
    public override IReadOnlyList<SkippedFile> ListingSkipped => _listingSkipped;

    /// <summary>
    /// Reads one folder of class subfolders. With <paramref name="classes"/> given (e.g. the training split's map),
    /// folder names must be among its classes; otherwise the map is built from the subfolders.
    /// </summary>
    public static ImageFolderDataset FromFolder(string root, ClassMap? classes = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Image folder '{root}' does not exist.");
        var skipped = new List<SkippedFile>();
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = true };
        var classDirs = new List<string>();
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            if (entry.Name.StartsWith('.')) continue;
            if (entry is DirectoryInfo)
            {
                if (entry.LinkTarget is null) classDirs.Add(entry.Name);
                else skipped.Add(Unlisted(entry.FullName, LinkReason));
            }
            else if (ImageExtensions.Contains(Path.GetExtension(entry.Name)))
                skipped.Add(Unlisted(entry.FullName, "an image file beside the class folders, not inside one"));
        }
        classDirs.Sort(StringComparer.Ordinal);
        if (classDirs.Count == 0) throw new InvalidDataException($"Image folder '{root}' has no class subfolders.");
        classes ??= new ClassMap(classDirs);
        var paths = new List<string>();
        var labels = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in classDirs)
        {
            if (!classes.Contains(name))
                throw new InvalidDataException($"Folder '{Path.Combine(root, name)}' is not one of the classes {string.Join(", ", classes.Names)}.");
            int label = classes.IndexOf(name);
            var dir = Path.Combine(root, name);
            var files = new List<string>();
            foreach (var (path, reason) in Walk(dir))
            {
                if (reason != null) skipped.Add(Unlisted(path, reason));
                else files.Add(path);
            }
            foreach (var f in files.OrderBy(f => Path.GetRelativePath(dir, f), StringComparer.Ordinal))
            {
                if (!seen.Add(RealPath(f))) continue;
                paths.Add(f);
                labels.Add(label);
            }
        }
        var listing = skipped.OrderBy(s => s.Path, StringComparer.Ordinal).ToArray();
        if (paths.Count == 0)
            throw new InvalidDataException($"Image folder '{root}' has no image files (.jpg, .jpeg, .png, .gif, .bmp, .webp, .tga)"
                + (listing.Length == 0 ? "." : $"; left out: {string.Join("; ", listing.Take(SkippedFile.ConsoleLimit).Select(s => s.ToString()))}{(listing.Length > SkippedFile.ConsoleLimit ? $" … and {listing.Length - SkippedFile.ConsoleLimit} more" : "")}."));
        return new ImageFolderDataset(root, classes, paths.ToArray(), labels.ToArray(), listing);
    }

    const string LinkReason = "a link to a directory (directory links are not followed)";

    static SkippedFile Unlisted(string path, string reason) => new(-1, path, reason);

    /// <summary>
    /// Every file under <paramref name="dir"/>, descending into real subdirectories only (never through a directory
    /// link), each with null when it is a candidate image or the reason it is not; hidden entries are left out.
    /// </summary>
    static IEnumerable<(string Path, string? Reason)> Walk(string dir)
    {
        var pending = new Stack<string>();
        pending.Push(dir);
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = true };
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var entry in new DirectoryInfo(current).EnumerateFileSystemInfos("*", options))
            {
                if (entry.Name.StartsWith('.')) continue;
                if (entry is DirectoryInfo sub)
                {
                    if (sub.LinkTarget is not null) { yield return (sub.FullName, LinkReason); continue; }
                    pending.Push(sub.FullName);
                    if (ImageExtensions.Contains(Path.GetExtension(sub.Name)))
                        yield return (sub.FullName, "a directory, not an image file (the files inside it are still read)");
                }
                else
                {
                    var ext = Path.GetExtension(entry.Name);
                    yield return (entry.FullName, ImageExtensions.Contains(ext) ? null
                        : ext.Length > 1 ? $"unsupported format {ext.ToLowerInvariant()} (JPEG, PNG, GIF, BMP, WebP or TGA expected)"
                        : "unsupported format: no file extension (.jpg, .jpeg, .png, .gif, .bmp, .webp or .tga expected)");
                }
            }
        }
    }

    /// <summary>The file a path finally names (links resolved), so one file reached twice is listed once.</summary>
    static string RealPath(string file)
    {
        try { return new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(file); }
        catch (IOException) { return Path.GetFullPath(file); }
    }

    /// <summary>
    /// Opens a dataset root: when it holds <c>train/</c> and <c>val/</c> (or <c>validation/</c>) they are the two
    /// splits, sharing the training classes; otherwise the root itself is one folder of classes split by a seeded
    /// stratified <paramref name="validationFraction"/>.
    /// </summary>
    public static DatasetSplit Open(string root, double validationFraction = 0.2, ulong seed = 0)
    {
        var train = Path.Combine(root, "train");
        var val = Path.Combine(root, "val");
        if (!Directory.Exists(val)) val = Path.Combine(root, "validation");
        if (Directory.Exists(train) && Directory.Exists(val))
        {
            var t = FromFolder(train);
            return new DatasetSplit(t, FromFolder(val, t.Classes));
        }
        if (Directory.Exists(train))
            return FromFolder(train).Split(validationFraction, seed);
        return FromFolder(root).Split(validationFraction, seed);
    }

    /// <summary>
    /// Splits by class: in each class, a seeded shuffle puts round(n·fraction) files in validation (at least one
    /// when the class has two or more files and the fraction is positive). Each side keeps the ordinal file order.
    /// </summary>
    public DatasetSplit Split(double validationFraction, ulong seed)
    {
        if (validationFraction is < 0 or >= 1 || double.IsNaN(validationFraction))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        var isVal = new bool[Count];
        for (int c = 0; c < Classes.Count; c++)
        {
            var members = Enumerable.Range(0, Count).Where(i => _labels[i] == c).ToArray();
            int take = (int)Math.Round(members.Length * validationFraction, MidpointRounding.AwayFromZero);
            if (validationFraction > 0 && members.Length >= 2) take = Math.Clamp(take, 1, members.Length - 1);
            var order = new int[members.Length];
            var rng = new CounterRng(seed, -1, c, -1);
            rng.Permutation(order);
            for (int k = 0; k < take; k++) isVal[members[order[k]]] = true;
        }
        ImageFolderDataset Pick(bool v)
        {
            var idx = Enumerable.Range(0, Count).Where(i => isVal[i] == v).ToArray();
            return new ImageFolderDataset(Root, Classes, idx.Select(i => _paths[i]).ToArray(), idx.Select(i => _labels[i]).ToArray(), _listingSkipped);
        }
        return new DatasetSplit(Pick(false), Pick(true));
    }
}

/// <summary>A training and a validation set sharing one class map.</summary>
public sealed record DatasetSplit(ImageDataset Train, ImageDataset Validation)
{
    public ClassMap Classes => Train.Classes;
}
