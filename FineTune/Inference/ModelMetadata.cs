using System.Text.Json;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit.FineTune.Inference;

/// <summary>
/// What a model file says about itself in its metadata_props, as <c>transferkit finetune</c> writes them into
/// tuned.onnx: <c>labels</c> (a JSON array of class names in output order) and <c>preprocessing</c> (a JSON object
/// with name, order "RGB"/"BGR", range "0-1"/"0-255", mean, std, resize, crop, channels).
/// </summary>
public static class ModelMetadata
{
    public const string LabelsKey = "labels";
    public const string PreprocessingKey = "preprocessing";

    /// <summary>The class names, or null when the file has no <c>labels</c> entry.</summary>
    public static string[]? Labels(IReadOnlyDictionary<string, string> metadata, string file)
    {
        if (!metadata.TryGetValue(LabelsKey, out var json)) return null;
        try
        {
            return JsonSerializer.Deserialize<string[]>(json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: metadata '{LabelsKey}' is not a JSON array of class names ({e.Message}).");
        }
    }

    /// <summary>The recorded preprocessing, or null when the file has no <c>preprocessing</c> entry.</summary>
    public static Preprocessing? Preprocessing(IReadOnlyDictionary<string, string> metadata, string file)
    {
        if (!metadata.TryGetValue(PreprocessingKey, out var json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var o = doc.RootElement;
            float[] Floats(string name) => o.GetProperty(name).EnumerateArray().Select(v => v.GetSingle()).ToArray();
            string order = o.GetProperty("order").GetString() ?? "";
            string range = o.GetProperty("range").GetString() ?? "";
            int channels = o.TryGetProperty("channels", out var ch) ? ch.GetInt32() : 3;
            var p = new Preprocessing(
                o.TryGetProperty("name", out var n) ? n.GetString() ?? "recorded" : "recorded",
                order.Equals("BGR", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Bgr
                    : order.Equals("RGB", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Rgb
                    : throw new InvalidDataException($"channel order '{order}' is neither RGB nor BGR"),
                range == "0-255" ? ValueRange.Byte : range == "0-1" ? ValueRange.Unit : throw new InvalidDataException($"value range '{range}' is neither 0-1 nor 0-255"),
                Floats("mean"), Floats("std"), o.GetProperty("resize").GetInt32(), o.GetProperty("crop").GetInt32(), channels);
            if (p.Mean.Length != p.Std.Length || p.CropSize <= 0 || channels is not (1 or 3))
                throw new InvalidDataException("mean/std lengths differ, the crop is not positive or the channel count is not 1 or 3");
            return p;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{file}: metadata '{PreprocessingKey}' is not a valid preprocessing record ({e.Message}).");
        }
    }
}
