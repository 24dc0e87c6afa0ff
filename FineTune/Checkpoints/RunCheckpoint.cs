using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// Everything a fine-tune run needs to continue exactly after an epoch, as one <c>.tkc</c> file: every parameter's
/// values (batch-norm running statistics included: they are parameters of the graph), the optimizer state, the
/// schedule position and random-stream counters (<see cref="RunPosition"/>), the freeze plan, the best epoch so far,
/// the metrics history, and the options the run was started with. A run folder holds two:
/// <c>checkpoints/last.tkc</c>, replaced after every epoch, and <c>checkpoints/best.tkc</c>, replaced when an epoch
/// is the best so far (its weights are the ones tuned.onnx gets). Both are written atomically.
/// </summary>
public sealed record RunCheckpoint
{
    public const string Format = "transferkit-run";
    public const int Version = 1;
    public const string FolderName = "checkpoints";

    /// <summary>The options the run was started with (paths made absolute, <see cref="FineTuneOptions.Resume"/> cleared).</summary>
    [JsonIgnore] public FineTuneOptions Options { get; init; } = null!;
    /// <summary>The dataset's class names (the labels in tuned.onnx).</summary>
    public string[] Classes { get; init; } = [];
    /// <summary>Outputs of the new head (at least the number of classes).</summary>
    public int ClassCount { get; init; }
    /// <summary>The recipe's phases in order (head, full).</summary>
    public string[] Phases { get; init; } = [];
    public RunPosition Position { get; init; } = null!;
    /// <summary>The freeze plan of the phase the last epoch ran in.</summary>
    public FreezeSnapshot Freeze { get; init; } = null!;
    public BestEpoch? Best { get; init; }
    /// <summary>Every epoch's metrics so far (metrics.csv).</summary>
    public EpochMetrics[] Metrics { get; init; } = [];
    public bool FeatureCache { get; init; }
    public int SkippedFiles { get; init; }
    /// <summary>Every file skipped so far with its reason (paths as the dataset lists them), so a resumed run reports them all.</summary>
    public Augment.Loading.SkippedFile[] Skipped { get; init; } = [];
    /// <summary>Wall time spent in the run so far, over all its processes.</summary>
    public double WallSeconds { get; init; }
    /// <summary>Validation images the export check feeds (the export verb uses them while they exist).</summary>
    public string[] CheckImages { get; init; } = [];
    /// <summary>The optimizer of the phase the last epoch ran in.</summary>
    [JsonIgnore] public OptimizerState? Optimizer { get; init; }
    /// <summary>The file this checkpoint was read from (holds the parameter values).</summary>
    [JsonIgnore] public CheckpointFile? File { get; private init; }

    public static string Folder(string runDir) => Path.Combine(runDir, FolderName);
    public static string LastPath(string runDir) => Path.Combine(Folder(runDir), "last" + CheckpointFile.Extension);
    public static string BestPath(string runDir) => Path.Combine(Folder(runDir), "best" + CheckpointFile.Extension);

    /// <summary>The run state's JSON: snake_case, enums as names, exact floating-point round trip.</summary>
    static readonly JsonSerializerOptions StateJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The options' JSON: the <c>--config</c> file format (kebab-case), so a saved run's options can be reused.</summary>
    public static JsonSerializerOptions OptionsJson => FineTuneConfigFile.JsonOptions;

    /// <summary>
    /// Writes the checkpoint with the current values of <paramref name="parameters"/> (atomically; see
    /// <see cref="CheckpointFile.Save"/> for <paramref name="beforeReplace"/>).
    /// </summary>
    public void Save(string path, IEnumerable<Parameter> parameters, Action<string>? beforeReplace = null)
    {
        var file = new CheckpointFile();
        file.AddParameters(parameters);
        if (Optimizer != null) file.AddOptimizer(Optimizer);
        file.State["format"] = Format;
        file.State["version"] = Version;
        file.State["options"] = JsonSerializer.SerializeToNode(Options, OptionsJson);
        file.State["run"] = JsonSerializer.SerializeToNode(this, StateJson);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        file.Save(path, beforeReplace);
    }

    /// <summary>Reads a run checkpoint; a file of another kind or version is an error naming it.</summary>
    public static RunCheckpoint Load(string path)
    {
        var file = CheckpointFile.Load(path);
        if ((string?)file.State["format"] != Format)
            throw new InvalidDataException($"'{path}' is a checkpoint but not of a fine-tune run (format '{file.State["format"]}').");
        int version = file.State["version"]?.GetValue<int>() ?? 0;
        if (version != Version)
            throw new InvalidDataException($"'{path}' is a version {version} run checkpoint; this build reads version {Version}.");
        try
        {
            var run = file.State["run"].Deserialize<RunCheckpoint>(StateJson) ?? throw new InvalidDataException($"'{path}': no run state.");
            var options = file.State["options"].Deserialize<FineTuneOptions>(OptionsJson) ?? throw new InvalidDataException($"'{path}': no options.");
            if (run.Position == null || run.Freeze == null) throw new InvalidDataException($"'{path}': the run state lacks its position or freeze plan.");
            return run with { Options = options, Optimizer = file.HasOptimizer() ? file.ReadOptimizer() : null, File = file };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': the run state cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Copies the saved parameter values into the model's parameters (names and shapes must match).</summary>
    public void RestoreParameters(IEnumerable<Parameter> parameters) =>
        (File ?? throw new InvalidOperationException("This checkpoint was not read from a file.")).RestoreParameters(parameters);

    /// <summary>Deletes temporary files a killed process left in the checkpoint folder.</summary>
    public static void RemoveStaleTemporaries(string runDir)
    {
        var folder = Folder(runDir);
        if (!Directory.Exists(folder)) return;
        foreach (var f in Directory.GetFiles(folder, "*" + CheckpointFile.Extension + ".tmp-*")) System.IO.File.Delete(f);
    }
}
