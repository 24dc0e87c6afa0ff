using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Catalog;

/// <summary>
/// Turns what the user typed for a model into a local .onnx file. An existing file is used as it is; otherwise the
/// value is a catalogue name, looked for (1) in the <c>TRANSFERKIT_MODELS</c> folder, (2) in the download cache, and
/// otherwise downloaded (or derived from another entry) into the cache. Every file taken from the catalogue has
/// its sha256 checked: a local file that differs is an error, never silently replaced.
/// </summary>
public sealed class ModelResolver
{
    /// <summary>The folder downloaded models are kept in (default: <c>$XDG_CACHE_HOME/transferkit/models</c>).</summary>
    public const string CacheEnvironmentVariable = "TRANSFERKIT_CACHE";

    readonly ModelDownloader _downloader;
    readonly TextWriter _log;

    /// <param name="catalog">The known models.</param>
    /// <param name="modelsFolder">A folder looked in first (null: none).</param>
    /// <param name="cacheFolder">Where downloads go and are found again.</param>
    /// <param name="downloader">Fetches files that are not local.</param>
    /// <param name="log">Where derivation notes go (default: standard error).</param>
    public ModelResolver(ModelCatalog catalog, string? modelsFolder, string cacheFolder, ModelDownloader downloader, TextWriter? log = null)
    {
        Catalog = catalog;
        ModelsFolder = string.IsNullOrEmpty(modelsFolder) ? null : Path.GetFullPath(modelsFolder);
        CacheFolder = Path.GetFullPath(cacheFolder);
        _downloader = downloader;
        _log = log ?? Console.Error;
    }

    public ModelCatalog Catalog { get; }
    public string? ModelsFolder { get; }
    public string CacheFolder { get; }

    /// <summary>The resolver the command line uses: default catalogue, <c>TRANSFERKIT_MODELS</c>, the per-user cache, progress on standard error.</summary>
    public static ModelResolver FromEnvironment() =>
        new(ModelCatalog.Default, Environment.GetEnvironmentVariable(ModelCatalog.ModelsEnvironmentVariable), DefaultCacheFolder(), new ModelDownloader());

    /// <summary><c>TRANSFERKIT_CACHE</c>, else <c>$XDG_CACHE_HOME/transferkit/models</c>, else <c>~/.cache/transferkit/models</c> (local application data on Windows).</summary>
    public static string DefaultCacheFolder()
    {
        var custom = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
        if (!string.IsNullOrEmpty(custom)) return custom;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "transferkit", "models");
    }

    /// <summary>An existing file path as it is, else the local file of the catalogue model of that name.</summary>
    /// <exception cref="FileNotFoundException">Neither a file nor a known name; the message lists the known names.</exception>
    public string Resolve(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return nameOrPath;
        var entry = Catalog.ByName(nameOrPath)
            ?? throw new FileNotFoundException($"Model '{nameOrPath}' is neither an existing file nor a catalogue name. Known models: {string.Join(", ", Catalog.Names)}.", nameOrPath);
        return Resolve(entry);
    }

    /// <summary>The local file of a catalogue entry: found, downloaded or derived, with its sha256 checked.</summary>
    public string Resolve(CatalogEntry entry) => Resolve(entry, []);

    string Resolve(CatalogEntry entry, HashSet<string> visiting)
    {
        if (!visiting.Add(entry.Name)) throw new InvalidDataException($"Catalogue entry '{entry.Name}' is derived from itself (through {string.Join(" → ", visiting)}).");
        if (Local(entry) is { } found) return found;
        var target = InFolder(CacheFolder, entry.File, entry);
        if (entry.Derive is { } derive) Derive(entry, derive, target, visiting);
        else if (entry.Url is { } url)
        {
            _log.WriteLine($"model '{entry.Name}': {entry.File} is not in {Searched()}; downloading {url}");
            try { _downloader.Download(url, entry.Sha256, target); }
            catch (Exception e) when (e is ModelDownloadException or HttpRequestException or IOException or TaskCanceledException)
            {
                throw new ModelDownloadException($"Model '{entry.Name}' is not local ({entry.File} is not in {Searched()}) and its download failed: {e.Message}", e);
            }
        }
        else
            throw new FileNotFoundException(
                $"Model '{entry.Name}' has no download address; put {entry.File} in the folder {ModelCatalog.ModelsEnvironmentVariable} names" +
                $"{(ModelsFolder != null ? $" ({ModelsFolder})" : "")} or in {CacheFolder}.", entry.File);
        return target;
    }

    /// <summary>The folders looked in for local copies, and the variable that adds one, for messages.</summary>
    string Searched() => ModelsFolder != null
        ? $"{ModelsFolder} ({ModelCatalog.ModelsEnvironmentVariable}) or the cache {CacheFolder}"
        : $"the cache {CacheFolder} ({ModelCatalog.ModelsEnvironmentVariable} is not set: point it at a folder of local copies, e.g. ../shared/models)";

    /// <summary>The entry's file in the models folder or the cache (by its catalogue path, then by file name), hash-checked; null when absent.</summary>
    string? Local(CatalogEntry entry)
    {
        foreach (var folder in new[] { ModelsFolder, CacheFolder })
        {
            if (folder == null) continue;
            foreach (var candidate in new[] { InFolder(folder, entry.File, entry), Path.Combine(folder, Path.GetFileName(entry.File)) }.Distinct())
            {
                if (!File.Exists(candidate)) continue;
                var actual = ModelCatalog.Sha256Of(candidate);
                if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{candidate}: sha256 {actual} is not the catalogue's {entry.Sha256.ToLowerInvariant()} for model '{entry.Name}'; delete or replace the file.");
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Makes the entry from the one it derives from, checks the result's sha256 and moves it into place.</summary>
    void Derive(CatalogEntry entry, CatalogDerivation derive, string target, HashSet<string> visiting)
    {
        var source = Catalog.ByName(derive.From)
            ?? throw new InvalidDataException($"Catalogue entry '{entry.Name}' derives from '{derive.From}', which is not in the catalogue.");
        if (derive.By != Float16Widening.Name)
            throw new InvalidDataException($"Catalogue entry '{entry.Name}': unknown derivation '{derive.By}' (known: {Float16Widening.Name}).");
        var sourcePath = Resolve(source, visiting);
        _log.WriteLine($"deriving {entry.Name} from {source.Name} ({derive.By})");
        // The source's published file name goes into doc_string, as in the file the catalogue's sha256 was taken from.
        var sourceName = source.Url is { } u && Uri.TryCreate(u, UriKind.Absolute, out var uri)
            ? Uri.UnescapeDataString(uri.Segments[^1]) : Path.GetFileName(source.File);
        var bytes = Float16Widening.Widen(ModelProto.Parser.ParseFrom(File.ReadAllBytes(sourcePath)), sourceName).ToByteArray();
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelDownloadException($"Deriving '{entry.Name}' from {sourcePath} gave sha256 {actual}, but the catalogue expects {entry.Sha256.ToLowerInvariant()}; nothing was written.");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + $".{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary><paramref name="relative"/> inside <paramref name="folder"/>; a catalogue path that leaves the folder is an error.</summary>
    static string InFolder(string folder, string relative, CatalogEntry entry)
    {
        var root = Path.GetFullPath(folder);
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (Path.IsPathRooted(relative) || !full.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"Catalogue entry '{entry.Name}': file '{relative}' must be a relative path inside the models folder.");
        return full;
    }
}
