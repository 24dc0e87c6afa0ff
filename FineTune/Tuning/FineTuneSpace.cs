using System.Globalization;
using System.Text.Json;
using TransferKit.Augment.Presets;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Tuning;

/// <summary>
/// The search space of a fine-tune job: five dimensions named after the settings they drive — <c>lr</c> and
/// <c>weight-decay</c> (log-uniform), <c>batch</c>, <c>augment</c> and <c>freeze-depth</c> (categorical, see
/// <see cref="FreezeDepth"/>) — their defaults, how they are read from flags and from a space file, and how a
/// configuration becomes <see cref="FineTuneOptions"/>.
/// </summary>
public static class FineTuneSpace
{
    public const string Lr = "lr";
    public const string WeightDecay = "weight-decay";
    public const string Batch = "batch";
    public const string Augment = "augment";
    public const string Depth = "freeze-depth";
    /// <summary>The dropout ratio in front of the head (<c>--head-dropout</c>); searched only when asked for.</summary>
    public const string HeadDropout = "head-dropout";

    /// <summary>The dimensions of <see cref="Default"/>.</summary>
    public static readonly IReadOnlyList<string> Names = [Lr, WeightDecay, Batch, Augment, Depth];

    /// <summary>Every dimension a space may have: <see cref="Names"/> and <see cref="HeadDropout"/>.</summary>
    public static readonly IReadOnlyList<string> Known = [.. Names, HeadDropout];

    /// <summary>lr 1e-4:1e-1, weight-decay 1e-6:1e-2, batch {16, 32}, augment {none, light, default}, freeze-depth {0, 1, 2, all}.</summary>
    public static SearchSpace Default { get; } = new([
        new LogUniformDimension(Lr, 1e-4, 1e-1),
        new LogUniformDimension(WeightDecay, 1e-6, 1e-2),
        new CategoricalDimension(Batch, ["16", "32"]),
        new CategoricalDimension(Augment, ["none", "light", "default"]),
        new CategoricalDimension(Depth, ["0", "1", "2", FreezeDepth.All]),
    ]);

    /// <summary>"LOW:HIGH" (log-uniform) or one number (fixed) for lr or weight-decay.</summary>
    public static LogUniformDimension ParseRange(string name, string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 1 or > 2 || parts.Any(p => !double.TryParse(p.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"{name}: '{text}' is not a range LOW:HIGH (e.g. 1e-4:1e-1) or a single number.");
        double low = double.Parse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture);
        double high = parts.Length == 2 ? double.Parse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture) : low;
        return new LogUniformDimension(name, low, high);
    }

    /// <summary>A comma-separated list of choices for batch, augment, freeze-depth or head-dropout, each checked.</summary>
    public static CategoricalDimension ParseList(string name, string text) => Categorical(name, text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary>A categorical dimension with its values checked for what the dimension means.</summary>
    public static CategoricalDimension Categorical(string name, IEnumerable<string> values)
    {
        var d = new CategoricalDimension(name, values);
        foreach (var v in d.Choices)
        {
            bool ok = name switch
            {
                Batch => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b >= 1,
                Augment => AugmentLevels.IsLevel(v) || v.Contains('('),
                Depth => FreezeDepth.IsWellFormed(v),
                HeadDropout => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p >= 0 && p < 1,
                _ => throw new ArgumentException($"'{name}' is not a categorical dimension ({Batch}, {Augment}, {Depth}, {HeadDropout})."),
            };
            if (!ok)
                throw new ArgumentException(name switch
                {
                    Batch => $"{Batch}: '{v}' is not a batch size (a whole number, 1 or more).",
                    Augment => $"{Augment}: '{v}' is not an augmentation level ({string.Join(", ", AugmentLevels.Names)}) or a transform spec.",
                    HeadDropout => $"{HeadDropout}: '{v}' is not a dropout ratio (0 or more, below 1).",
                    _ => $"{Depth}: '{v}' is not a number of trailing layers, '{FreezeDepth.All}' or '{FreezeDepth.TwoPhase}'.",
                });
        }
        return d;
    }

    /// <summary>
    /// Reads a space file: a JSON object whose keys are dimension names, with "LOW:HIGH" or a number for lr and
    /// weight-decay, and an array (or one value) for batch, augment and freeze-depth. Dimensions it leaves out keep
    /// <paramref name="start"/>'s.
    /// <code>{ "lr": "1e-4:1e-1", "weight-decay": 0, "batch": [16, 32], "augment": ["none", "light"], "freeze-depth": [0, 2, "all"] }</code>
    /// </summary>
    public static SearchSpace ReadFile(string path, SearchSpace start)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Search space file '{path}' does not exist.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new JsonException($"{path}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{path}: the search space must be a JSON object keyed by dimension ({string.Join(", ", Known)}).");
            var space = start;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                try
                {
                    space = space.With(p.Name switch
                    {
                        Lr or WeightDecay => p.Value.ValueKind switch
                        {
                            JsonValueKind.String => ParseRange(p.Name, p.Value.GetString()!),
                            JsonValueKind.Number => new LogUniformDimension(p.Name, p.Value.GetDouble(), p.Value.GetDouble()),
                            _ => throw new ArgumentException($"{p.Name}: give \"LOW:HIGH\" or a number."),
                        },
                        Batch or Augment or Depth or HeadDropout => Categorical(p.Name, p.Value.ValueKind == JsonValueKind.Array
                            ? p.Value.EnumerateArray().Select(Scalar)
                            : [Scalar(p.Value)]),
                        _ => throw new ArgumentException($"unknown dimension '{p.Name}' (known: {string.Join(", ", Known)})."),
                    });
                }
                catch (ArgumentException e) { throw new ArgumentException($"{path}: {e.Message}", e); }
            }
            return space;
        }
    }

    static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        _ => throw new ArgumentException($"'{e.GetRawText()}' is not a number or a string."),
    };

    /// <summary>Numbers rounded to three significant digits (what runs and what the files show).</summary>
    public static Configuration Round(Configuration c) =>
        new(c.Numbers.ToDictionary(kv => kv.Key, kv => kv.Value == 0 ? 0 : double.Parse(kv.Value.ToString("G3", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)), c.Choices);

    /// <summary>The fine-tune settings of a configuration: <paramref name="options"/> with each searched value in place.</summary>
    public static FineTuneOptions Apply(Configuration c, FineTuneOptions options, FreezeDepth depth)
    {
        if (c.Numbers.TryGetValue(Lr, out var lr)) options = options with { Lr = (float)lr };
        if (c.Numbers.TryGetValue(WeightDecay, out var wd)) options = options with { WeightDecay = (float)wd };
        if (c.Choices.TryGetValue(Batch, out var b)) options = options with { Batch = int.Parse(b, CultureInfo.InvariantCulture) };
        if (c.Choices.TryGetValue(Augment, out var a)) options = options with { Augment = a };
        if (c.Choices.TryGetValue(Depth, out var d)) options = depth.Apply(d, options);
        if (c.Choices.TryGetValue(HeadDropout, out var hd)) options = options with { HeadDropout = float.Parse(hd, CultureInfo.InvariantCulture) };
        return options;
    }
}
