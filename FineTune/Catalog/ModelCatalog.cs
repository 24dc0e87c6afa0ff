using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TransferKit.FineTune.Catalog;

/// <summary>Input geometry a catalogue model expects.</summary>
public sealed record CatalogInput(int Channels, int Height, int Width, string Layout = "NCHW");

/// <summary>One known pretrained model: where it comes from, how to check it and how to feed it.</summary>
public sealed record CatalogEntry
{
    public required string Name { get; init; }
    public required string File { get; init; }
    public string? Url { get; init; }
    public required string Sha256 { get; init; }
    public required CatalogInput Input { get; init; }
    /// <summary>A preset name (string) or an explicit convention (object: order, range, mean, std, resize, crop).</summary>
    public JsonElement Preprocessing { get; init; }
    public string? Head { get; init; }
    public int Classes { get; init; }
    public string[]? Labels { get; init; }
}

/// <summary>
/// The manifest of known models (<c>models/catalog.json</c>, copied beside the tool). Models are found in a local
/// folder (<c>TRANSFERKIT_MODELS</c>, else the shared models folder) and recognised by file name or sha256.
/// </summary>
public sealed class ModelCatalog
{
    public const string ModelsEnvironmentVariable = "TRANSFERKIT_MODELS";

    public IReadOnlyList<CatalogEntry> Entries { get; }

    ModelCatalog(IReadOnlyList<CatalogEntry> entries) => Entries = entries;

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };

    sealed record Manifest(List<CatalogEntry> Models);

    public static ModelCatalog Load(string path)
    {
        var manifest = JsonSerializer.Deserialize<Manifest>(System.IO.File.ReadAllText(path), Options)
            ?? throw new InvalidDataException($"{path}: empty model catalogue.");
        return new ModelCatalog(manifest.Models);
    }

    /// <summary>The catalogue shipped with the tool.</summary>
    public static ModelCatalog Default
    {
        get
        {
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
