using System.Globalization;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// What an import may cost before it is refused, so that a hostile or broken model ends in a clear error instead of
/// gigabytes of allocation: the node count, and the memory of constants — each initializer and each constant folded
/// at import (ConstantOfShape, broadcasts, …), and all initializers together — counted as the importer holds them
/// (<see cref="BytesPerConstantElement"/> bytes per element). Every size is checked before anything of that size is
/// allocated. The defaults hold every model in the catalogue with room to spare and keep a refused import well under 1.5 GB; raise them with
/// <c>--import-budget-mb</c> / <c>--max-nodes</c> (inspect, verify) or the environment variables
/// <see cref="BudgetVariable"/> and <see cref="MaxNodesVariable"/> (every verb).
/// </summary>
public sealed record ImportLimits
{
    /// <summary>
    /// Default budget for constants: 1 GiB as held at import (134M elements, 512 MiB of float32 weights in the file;
    /// the largest catalogue model, ResNet-18, needs 94 MiB).
    /// </summary>
    public const long DefaultMemoryBudgetBytes = 1L << 30;
    /// <summary>
    /// Default largest node count: the biggest catalogue models have a few hundred nodes, transformer exports tens of
    /// thousands; a 200,000-node chain takes about 4.5 s and 0.4 GB to inspect, 33 s and 1.2 GB to verify (most of it
    /// ONNX Runtime building its session), so this keeps verify near 1.5 GB.
    /// </summary>
    public const int DefaultMaxNodes = 250_000;
    /// <summary>Import holds constants as doubles (exact for every ONNX integer and float type it reads).</summary>
    public const int BytesPerConstantElement = sizeof(double);
    public const string BudgetVariable = "TRANSFERKIT_IMPORT_BUDGET_MB";
    public const string MaxNodesVariable = "TRANSFERKIT_MAX_NODES";

    public long MemoryBudgetBytes { get; init; } = DefaultMemoryBudgetBytes;
    public int MaxNodes { get; init; } = DefaultMaxNodes;

    /// <summary>The defaults, with <see cref="BudgetVariable"/> and <see cref="MaxNodesVariable"/> applied when set.</summary>
    public static ImportLimits FromEnvironment()
    {
        var limits = new ImportLimits();
        if (Environment.GetEnvironmentVariable(BudgetVariable) is { Length: > 0 } mb)
            limits = limits with { MemoryBudgetBytes = checked(Positive(BudgetVariable, mb) * (1L << 20)) };
        if (Environment.GetEnvironmentVariable(MaxNodesVariable) is { Length: > 0 } nodes)
            limits = limits with { MaxNodes = (int)Math.Min(int.MaxValue, Positive(MaxNodesVariable, nodes)) };
        return limits;
    }

    static long Positive(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is > 0 and < (1L << 40) ? v
            : throw new ArgumentException($"{name}={value} must be a positive whole number.");

    /// <summary>Bytes as "1.5 GiB", "12.0 MiB" (for messages).</summary>
    public static string Format(double bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (1L << 30):F1} GiB" : $"{bytes / (1L << 20):F1} MiB";
}
