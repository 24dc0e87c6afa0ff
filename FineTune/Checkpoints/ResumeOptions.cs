using System.Text.Json;
using System.Text.Json.Nodes;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// The options of a resumed run. A run continues with the options it was started with (saved in its checkpoints);
/// anything given again must have the same value, or the run would not be the one that was started. The exceptions
/// are <see cref="FineTuneOptions.Out"/> (the run folder being resumed) and <see cref="FineTuneOptions.Threads"/>
/// (how many cores to use, which may change between machines).
/// </summary>
public static class ResumeOptions
{
    /// <summary>Options (by their JSON/flag names) that may differ from the saved ones.</summary>
    static readonly HashSet<string> MayDiffer = ["out", "threads", "resume"];

    /// <summary>The saved options of the run in <paramref name="runDir"/>, ready to resume it.</summary>
    public static FineTuneOptions Load(string runDir)
    {
        var last = RunCheckpoint.LastPath(runDir);
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"Run folder '{runDir}' does not exist.");
        if (!File.Exists(last))
            throw new FileNotFoundException($"'{runDir}' has no checkpoint to resume ({last} is missing: the run stopped before its first epoch ended, or it is not a run folder).", last);
        return RunCheckpoint.Load(last).Options with { Out = Path.GetFullPath(runDir), Resume = runDir };
    }

    /// <summary>The options as saved: absolute paths, no resume folder.</summary>
    public static FineTuneOptions Normalize(FineTuneOptions o) => o with
    {
        Model = Path.GetFullPath(o.Model),
        Data = Path.GetFullPath(o.Data),
        Val = o.Val == null ? null : Path.GetFullPath(o.Val),
        Out = Path.GetFullPath(o.Out),
        Resume = null,
    };

    /// <summary>
    /// Each option of <paramref name="given"/> whose value differs from <paramref name="saved"/>, as
    /// "--name given (the run has saved)"; empty when the run can continue with them.
    /// </summary>
    public static IReadOnlyList<string> Conflicts(FineTuneOptions given, FineTuneOptions saved)
    {
        var a = JsonSerializer.SerializeToNode(Normalize(given), RunCheckpoint.OptionsJson)!.AsObject();
        var b = JsonSerializer.SerializeToNode(Normalize(saved), RunCheckpoint.OptionsJson)!.AsObject();
        var conflicts = new List<string>();
        foreach (var (name, value) in b)
        {
            if (MayDiffer.Contains(name) || JsonNode.DeepEquals(a[name], value)) continue;
            conflicts.Add($"--{name} {Show(a[name])} (the run has {Show(value)})");
        }
        return conflicts;
    }

    static string Show(JsonNode? v) => v switch
    {
        null => "(none)",
        JsonArray arr => string.Join(" ", arr.Select(x => x?.ToString())),
        _ => v.ToString(),
    };
}
