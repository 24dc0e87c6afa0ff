using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TransferKit.FineTune.Catalog;

/// <summary>Input geometry a catalogue model expects.</summary>
public sealed record CatalogInput(int Channels, int Height, int Width, string Layout = "NCHW");

/// <summary>
/// How a model that is not published as such is made from another catalogue entry: <paramref name="From"/> names the
/// entry, <paramref name="By"/> the conversion (<c>float16-to-float32</c>). The result is checked against the
/// deriving entry's sha256 like a download.
/// </summary>
public sealed record CatalogDerivation(string From, string By);

/// <summary>One known pretrained model: where it comes from, how to check it and how to feed it.</summary>
public sealed record CatalogEntry
{
    public required string Name { get; init; }
    public required string File { get; init; }
    /// <summary>The official download address (absent for models that are not published).</summary>
    public string? Url { get; init; }
    /// <summary>sha256 of <see cref="File"/> (lower-case hex).</summary>
    public required string Sha256 { get; init; }
    /// <summary>Set when the file is made from another entry rather than downloaded from <see cref="Url"/> as is.</summary>
    public CatalogDerivation? Derive { get; init; }
    public required CatalogInput Input { get; init; }
    /// <summary>A preset name (string) or an explicit convention (object: order, range, mean, std, resize, crop).</summary>
    public JsonElement Preprocessing { get; init; }
    public string? Head { get; init; }
    public int Classes { get; init; }
    public string[]? Labels { get; init; }
}

/// <summary>
/// The manifest of known models (<c>models/catalog.json</c>, copied beside the tool, or the file
/// <c>TRANSFERKIT_CATALOG</c> names). Files are recognised by file name or sha256; <see cref="ModelResolver"/> turns
/// a name into a local file.
/// </summary>
public sealed class ModelCatalog
{
    /// <summary>A folder holding catalogue models (looked in before the download cache).</summary>
    public const string ModelsEnvironmentVariable = "TRANSFERKIT_MODELS";

    /// <summary>A catalogue JSON file to use instead of the one shipped with the tool.</summary>
    public const string CatalogEnvironmentVariable = "TRANSFERKIT_CATALOG";

    public IReadOnlyList<CatalogEntry> Entries { get; }

    public ModelCatalog(IReadOnlyList<CatalogEntry> entries) => Entries = entries;

    /// <summary>The entries' names, in catalogue order.</summary>
    public IEnumerable<string> Names => Entries.Select(e => e.Name);

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };

    sealed record Manifest(List<CatalogEntry> Models);

    public static ModelCatalog Load(string path)
    {
        Manifest? manifest;
        try { manifest = JsonSerializer.Deserialize<Manifest>(System.IO.File.ReadAllText(path), Options); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid model catalogue: {e.Message}", e); }
        if (manifest?.Models == null) throw new InvalidDataException($"{path}: empty model catalogue.");
        return new ModelCatalog(manifest.Models);
    }

    /// <summary>The catalogue <c>TRANSFERKIT_CATALOG</c> names, else the one shipped with the tool.</summary>
    public static ModelCatalog Default
    {
        get
        {
            var custom = Environment.GetEnvironmentVariable(CatalogEnvironmentVariable);
            if (!string.IsNullOrEmpty(custom))
                return System.IO.File.Exists(custom) ? Load(custom)
                    : throw new FileNotFoundException($"{CatalogEnvironmentVariable}='{custom}' does not exist.", custom);
            var path = Path.Combine(AppContext.BaseDirectory, "models", "catalog.json");
            return System.IO.File.Exists(path) ? Load(path) : new ModelCatalog([]);
        }
    }

    public CatalogEntry? ByName(string name) => Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The entry whose sha256 matches the file's, or whose file name matches.</summary>
    public CatalogEntry? Identify(string modelPath)
    {
        var full = Path.GetFullPath(modelPath);
        var byName = Entries.Where(e => full.EndsWith("/" + e.File, StringComparison.Ordinal) || Path.GetFileName(full) == Path.GetFileName(e.File)).ToList();
        if (byName.Count == 1) return byName[0];
        var hash = Sha256Of(full);
        return Entries.FirstOrDefault(e => string.Equals(e.Sha256, hash, StringComparison.OrdinalIgnoreCase)) ?? byName.FirstOrDefault();
    }

    public static string Sha256Of(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
