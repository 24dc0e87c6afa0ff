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
        return root;
    }

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
