using System.CommandLine;
using TransferKit.FineTune.Cli;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The command line as a user meets it in <c>--help</c>: every verb, option and argument says what it is for, and every
/// verb that works on a model takes it as its first argument (with <c>--model</c> kept as an alias).
/// </summary>
[Collection("Console")]
public class CommandLineHelpTests
{
    static IEnumerable<Command> Verbs() => TransferKitCommand.Build().Subcommands;

    [Fact]
    public void EveryVerbOptionAndArgumentHasADescription()
    {
        var missing = new List<string>();
        foreach (var verb in Verbs())
        {
            if (string.IsNullOrWhiteSpace(verb.Description)) missing.Add(verb.Name);
            foreach (var o in verb.Options)
                if (o.Name is not ("--help" or "-h" or "-?") && string.IsNullOrWhiteSpace(o.Description)) missing.Add($"{verb.Name} {o.Name}");
            foreach (var a in verb.Arguments)
                if (string.IsNullOrWhiteSpace(a.Description)) missing.Add($"{verb.Name} <{a.Name}>");
        }
        Assert.True(missing.Count == 0, "without a description: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryVerbThatTakesAModelTakesItAsAnArgument()
    {
        // export's first argument is the checkpoint; its --model names the base model the checkpoint came from.
        var optionOnly = Verbs().Where(v => v.Name != "export" && v.Options.Any(o => o.Name == "--model") && !v.Arguments.Any(a => a.Name == "model")).Select(v => v.Name).ToList();
        Assert.True(optionOnly.Count == 0, "--model without a positional model: " + string.Join(", ", optionOnly));
    }

    [Fact]
    public void AModelGivenAsAnArgumentIsTheModelOfTheRun()
    {
        // lr-find with the model positional runs as with --model; two different models are refused.
        var data = SharedAssets.Dataset("hymenoptera_data");
        var model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        var (code, output, err) = CliTests.Run("lr-find", model, "--data", data, "--steps", "3", "--batch", "4", "--limit-train", "12");
        Assert.True(code == 0, err);
        Assert.Contains("suggested", output);
        var (twice, _, twiceErr) = CliTests.Run("lr-find", model, "--model", SharedAssets.Model("mnist-8.onnx"), "--data", data);
        Assert.Equal(2, twice);
        Assert.Contains("Two models given", twiceErr);
    }

    [Fact]
    public void ChoicesPrintInLowerCase()
    {
        // Enum-valued options list their values as the README writes them (--bn eval|affine|train).
        var (code, output, err) = CliTests.Run("finetune", "--help");
        Assert.True(code == 0, err);
        Assert.Contains("eval|affine|train", output.Replace(" ", ""));
        Assert.DoesNotContain("Eval|Affine|Train", output.Replace(" ", ""));
    }
}
