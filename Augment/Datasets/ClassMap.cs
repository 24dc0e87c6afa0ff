using System.Text.Json;

namespace TransferKit.Augment.Datasets;

/// <summary>
/// Class names and their indices. Folder datasets sort names ordinally, so index i is always the i-th name in
/// ordinal order. Saved with every run as JSON <c>{"classes": ["ants", "bees"]}</c>.
/// </summary>
public sealed class ClassMap
{
    readonly string[] _names;
    readonly Dictionary<string, int> _index;

    public ClassMap(IEnumerable<string> names)
    {
        _names = names.ToArray();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _names.Length; i++)
            if (!_index.TryAdd(_names[i], i)) throw new ArgumentException($"Class name '{_names[i]}' appears twice.");
    }

    /// <summary>Names in ordinal order.</summary>
    public static ClassMap FromUnsorted(IEnumerable<string> names) => new(names.Distinct().OrderBy(n => n, StringComparer.Ordinal));

    public int Count => _names.Length;

    public IReadOnlyList<string> Names => _names;

    public string this[int index] => _names[index];

    /// <summary>The index of a class, throwing with the known names when absent.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i) ? i
        : throw new KeyNotFoundException($"Unknown class '{name}'; known classes: {string.Join(", ", _names)}.");

    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>The map as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, string[]> { ["classes"] = _names },
        new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Writes the JSON atomically (temporary file, then rename over the target).</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, ToJson());
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>Reads a map written by <see cref="Save"/>.</summary>
    public static ClassMap Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("classes", out var classes) || classes.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"Class map '{path}' has no \"classes\" array.");
        return new ClassMap(classes.EnumerateArray().Select(e => e.GetString()
            ?? throw new InvalidDataException($"Class map '{path}' has a non-string class name.")));
    }
}
