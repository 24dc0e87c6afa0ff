using System.CommandLine;
using TransferKit.FineTune.Catalog;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// The model a verb works on, given as an argument or with <c>--model</c>: a .onnx file, or a catalogue name that
/// <see cref="ModelResolver"/> finds locally or downloads into the cache.
/// </summary>
public static class ModelOption
{
    public const string Help = "A .onnx file, or a catalogue model name (found in TRANSFERKIT_MODELS or the cache, else downloaded and sha256-checked).";

    /// <summary>The <c>--model</c> option.</summary>
    public static Option<string?> Create() => new("--model") { Description = Help };

    /// <summary>The optional positional model argument.</summary>
    public static Argument<string?> CreateArgument() => new("model") { Description = Help, Arity = ArgumentArity.ZeroOrOne };

    /// <summary>The local file for what was given as an argument or with --model (exactly one of them).</summary>
    public static string Resolve(string? positional, string? option)
    {
        if (positional != null && option != null && positional != option)
            throw new CliException($"Two models given ('{positional}' and --model '{option}'); name one.");
        var value = positional ?? option
            ?? throw new CliException("Name a model: a .onnx file or a catalogue name, as an argument or with --model.");
        return ModelResolver.FromEnvironment().Resolve(value);
    }
}
