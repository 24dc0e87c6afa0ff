using System.CommandLine;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Cli;

/// <summary>The root of the <c>transferkit</c> command line: one sub-command per verb.</summary>
public static class TransferKitCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("TransferKit: import a pretrained ONNX CNN, fine-tune it on your images, export it back to ONNX, verified against ONNX Runtime.");
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(FineTuneCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(LrFindCommand.Create());
        root.Subcommands.Add(AugmentPreviewCommand.Create());
        root.Subcommands.Add(BenchDataCommand.Create());
        root.Subcommands.Add(TuneCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        LowerCaseChoices(root);
        return root;
    }

    /// <summary>
    /// Enum-valued options list and default their values in the lower case the documentation uses
    /// (<c>--bn &lt;eval|affine|train&gt;</c>, <c>[default: eval]</c>); parsing already ignores case.
    /// </summary>
    static void LowerCaseChoices(RootCommand root)
    {
        foreach (var verb in root.Subcommands)
            foreach (var option in verb.Options)
            {
                var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
                if (type.IsEnum) option.HelpName = string.Join("|", Enum.GetNames(type).Select(n => n.ToLowerInvariant()));
            }
    }

    /// <summary>Help text with enum defaults as they are typed (<c>[default: Eval]</c> becomes <c>[default: eval]</c>).</summary>
    static string LowerCaseDefaults(string help) =>
        System.Text.RegularExpressions.Regex.Replace(help, @"\[default: ([A-Z][A-Za-z]*)\]", m => $"[default: {m.Groups[1].Value.ToLowerInvariant()}]");

    /// <summary>Runs the command line; exit code 2 on a usage error or on any error a verb reports.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return 2;
        }
        try
        {
            if (parse.Action is System.CommandLine.Help.HelpAction)
            {
                var help = new StringWriter();
                int code = await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = help });
                Console.Out.Write(LowerCaseDefaults(help.ToString()));
                return code;
            }
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is OnnxImportException or CliException or IOException or UnauthorizedAccessException
                                       or Toolkit.Tensors.ShapeException or ArgumentException or NotSupportedException
                                       or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Augment.Imaging.ImageDecodeException or InvalidOperationException or ArithmeticException or InsufficientMemoryException or System.Text.Json.JsonException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (Environment.GetEnvironmentVariable("TRANSFERKIT_DEBUG") == "1") Console.Error.WriteLine(e);
            return 2;
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or KeyNotFoundException or NullReferenceException or OutOfMemoryException)
        {
            // Not a reported error but a gap in a check: still one line and exit 2, never a stack trace.
            Console.Error.WriteLine($"error: {e.Message} ({e.GetType().Name}; TRANSFERKIT_DEBUG=1 shows where)");
            if (Environment.GetEnvironmentVariable("TRANSFERKIT_DEBUG") == "1") Console.Error.WriteLine(e);
            return 2;
        }
    }
}
