using System.CommandLine;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Cli;

/// <summary><c>--import-budget-mb</c> and <c>--max-nodes</c>: the import's limits (<see cref="ImportLimits"/>) for a verb that imports a model.</summary>
sealed class ImportLimitOptions
{
    public Option<int?> BudgetMb { get; } = new("--import-budget-mb")
    {
        Description = $"Memory the import may spend on constants, in MB (default {ImportLimits.DefaultMemoryBudgetBytes >> 20}, or ${ImportLimits.BudgetVariable}).",
    };
    public Option<int?> MaxNodes { get; } = new("--max-nodes")
    {
        Description = $"Most nodes a model may have (default {ImportLimits.DefaultMaxNodes:N0}, or ${ImportLimits.MaxNodesVariable}).",
    };

    public void AddTo(Command command) { command.Options.Add(BudgetMb); command.Options.Add(MaxNodes); }

    /// <summary>The limits: the environment's or the defaults, with the options given applied.</summary>
    public ImportLimits Get(ParseResult parse)
    {
        var limits = ImportLimits.FromEnvironment();
        if (parse.GetValue(BudgetMb) is { } mb)
            limits = limits with { MemoryBudgetBytes = mb >= 1 ? (long)mb << 20 : throw new CliException($"--import-budget-mb {mb} must be at least 1.") };
        if (parse.GetValue(MaxNodes) is { } n)
            limits = limits with { MaxNodes = n >= 1 ? n : throw new CliException($"--max-nodes {n} must be at least 1.") };
        return limits;
    }
}
