using System.Text.Json;
using System.Text.Json.Serialization;

namespace TransferKit.FineTune.Training;

/// <summary>
/// The JSON form of <see cref="FineTuneOptions"/> read by <c>finetune --config</c> and written by <c>tune</c>: an
/// object with the options' kebab-case names ("lr", "weight-decay", "limit-train", …); enums as names ("eval") or numbers.
/// </summary>
public static class FineTuneConfigFile
{
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNameCaseInsensitive = true,
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>Reads a config file; errors name the file.</summary>
    public static FineTuneOptions Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        try
        {
            return JsonSerializer.Deserialize<FineTuneOptions>(File.ReadAllText(path), JsonOptions)
                   ?? throw new JsonException("the file holds null.");
        }
        catch (JsonException e) { throw new JsonException($"{path}: {e.Message}", e); }
    }

    /// <summary>Writes <paramref name="options"/> atomically (temporary file in the same folder, then renamed).</summary>
    public static void Write(string path, FineTuneOptions options) =>
        FineTuneJob.WriteAtomically(path, JsonSerializer.Serialize(options, JsonOptions) + "\n");
}
