using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Cli;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Tests;

/// <summary><c>transferkit export</c>: a run's checkpoint back to the ONNX file the run wrote, and clear errors.</summary>
[Collection("Console")]
public class ExportCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        var (o, e) = (Console.Out, Console.Error);
        Console.SetOut(stdout); Console.SetError(stderr);
        try { return (TransferKitCommand.RunAsync(args).GetAwaiter().GetResult(), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    static string TrainedRun(string recipe)
    {
        var run = Path.Combine(Directory.CreateTempSubdirectory("transferkit-exportrun-").FullName, "run");
        new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("mnist-8.onnx"), Data = MnistFolder.Create(30, 4, 7, 9), Out = run, Epochs = 2, Recipe = recipe, Lr = 1e-3f,
        }, TextWriter.Null).Run();
        return run;
    }

    [Theory]
    [InlineData("head")]
    [InlineData("full")]
    public void TheBestCheckpointExportsToTunedOnnx(string recipe)
    {
        var run = TrainedRun(recipe);
        var outPath = Path.Combine(run, "exported.onnx");
        var (code, output, err) = Run("export", run, "--out", outPath);
        Assert.True(code == 0, err);
        Assert.Contains("ONNX Runtime agrees", output);

        var tuned = OnnxImporter.Import(Path.Combine(run, "tuned.onnx"));
        var exported = OnnxImporter.Import(outPath);
        Assert.Equal(tuned.Metadata.OrderBy(kv => kv.Key), exported.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal("[\"4\",\"7\",\"9\"]", exported.Metadata["labels"]);
        Assert.Equal(tuned.Outputs.Select(o => o.Name), exported.Outputs.Select(o => o.Name));   // the softmax is back
        Assert.Equal(RunFiles.OnnxParameters(Path.Combine(run, "tuned.onnx")), RunFiles.OnnxParameters(outPath));
        Assert.False(File.Exists(outPath + ".check"));
    }

    [Fact]
    public void TheLastCheckpointExportsItsOwnWeights()
    {
        var run = TrainedRun("head");
        var outPath = Path.Combine(run, "last.onnx");
        var (code, _, err) = Run("export", RunCheckpoint.LastPath(run), "--out", outPath);
        Assert.True(code == 0, err);
        var saved = CheckpointFile.Load(RunCheckpoint.LastPath(run)).ReadParameters();
        foreach (var (name, bytes) in RunFiles.OnnxParameters(outPath))
            Assert.True(bytes.AsSpan().SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(saved[name].Span)), name);
    }

    [Fact]
    public void ErrorsNameWhatIsMissing()
    {
        var (code, _, err) = Run("export", "/nonexistent/run/best.tkc", "--out", "/tmp/x.onnx");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/run/best.tkc", err);

        var empty = Directory.CreateTempSubdirectory("transferkit-norun-").FullName;
        (code, _, err) = Run("export", empty, "--out", Path.Combine(empty, "x.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("best.tkc", err);

        var notCheckpoint = Path.Combine(empty, "fake.tkc");
        File.WriteAllText(notCheckpoint, "this is not a checkpoint, only some text that is long enough");
        (code, _, err) = Run("export", notCheckpoint, "--out", Path.Combine(empty, "x.onnx"));
        Assert.Equal(2, code);
        Assert.Contains(notCheckpoint, err);

        var run = TrainedRun("head");
        (code, _, err) = Run("export", run, "--out", Path.Combine(empty, "x.onnx"), "--model", SharedAssets.Model("cifar10_tutorial_ImageClassifier.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("parameter", err);
    }
}
