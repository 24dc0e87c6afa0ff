using System.CommandLine;

namespace TransferKit.FineTune.Cli;

/// <summary>The root of the <c>transferkit</c> command line: one sub-command per verb.</summary>
public static class TransferKitCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("TransferKit: import a pretrained ONNX CNN, fine-tune it on your images, export it back to ONNX, verified against ONNX Runtime.");
        root.Subcommands.Add(AugmentPreviewCommand.Create());
        root.Subcommands.Add(BenchDataCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        return await root.Parse(args).InvokeAsync();
    }
}
