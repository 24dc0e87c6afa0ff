using System.Text.Json;
using TransferKit.FineTune.Cli;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;

namespace TransferKit.FineTune.Tests;

/// <summary>The command line as a user runs it: exit codes, JSON fields, --help and errors.</summary>
[Collection("Console")]
public class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter(); var stderr = new StringWriter();
        var (o, e) = (Console.Out, Console.Error);
        Console.SetOut(stdout); Console.SetError(stderr);
        try { return (TransferKitCommand.RunAsync(args).GetAwaiter().GetResult(), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(o); Console.SetError(e); }
    }

    [Fact]
    public void VerifyJsonReportsParity()
    {
        var (code, output, _) = Run("verify", SharedAssets.Model("mnist-8.onnx"), "--random", "--batch", "3", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("within_tolerance").GetBoolean());
        Assert.True(root.GetProperty("max_abs").GetDouble() < 1e-4);
        Assert.True(root.GetProperty("max_rel").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("first_divergent_node").ValueKind);
        Assert.Equal(3, root.GetProperty("batch").GetInt32());
    }

    [Fact]
    public void VerifyPerNodeComparesIntermediates()
    {
        var (code, output, _) = Run("verify", SharedAssets.Model("cifar10_tutorial_ImageClassifier.onnx"), "--per-node", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("nodes_compared").GetInt32() > 5);
    }

    [Fact]
    public void VerifyGradChecksTheWholeModelAndReportsEveryParameter()
    {
        var (code, output, _) = Run("verify", SharedAssets.Model("mnist-8.onnx"), "--grad", "--batch", "3", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("grad", root.GetProperty("mode").GetString());
        Assert.True(root.GetProperty("within_tolerance").GetBoolean());
        Assert.InRange(root.GetProperty("max_rel").GetDouble(), 0, Toolkit.Graph.GradientCheck.Tolerance);
        var ps = root.GetProperty("parameters").EnumerateArray().ToList();
        Assert.Equal(6, ps.Count);
        Assert.All(ps, p => Assert.True(p.GetProperty("passed").GetBoolean()));
        Assert.Equal(4, root.GetProperty("held_switches").GetInt32());
    }

    [Fact]
    public void VerifyGradWithANewHeadPrintsATableAndFailsOnATightTolerance()
    {
        var model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        var (code, output, _) = Run("verify", model, "--grad", "--classes", "2", "--recipe", "head", "--unfreeze", "fire9/expand1x1*");
        Assert.Equal(0, code);
        Assert.Contains("conv10_w_0", output);
        Assert.Contains("fire9/expand1x1_w_0", output);
        Assert.DoesNotContain("fire9/expand3x3_w_0", output);
        Assert.Contains("PASS", output);
        // One direction at a step of three times the weights' scale: the truncation error is far outside the tolerance,
        // and the exit code says so.
        var (bad, badOutput, _) = Run("verify", SharedAssets.Model("mnist-8.onnx"), "--grad", "--epsilon", "3", "--directions", "1");
        Assert.Equal(1, bad);
        Assert.Contains("FAIL", badOutput);
    }

    [Fact]
    public void VerifyHelpDescribesGrad()
    {
        var (code, output, _) = Run("verify", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--grad", output);
        Assert.Contains("--unfreeze", output);
        Assert.Contains("--classes", output);
    }

    [Fact]
    public void ErrorsExitWithTwoAndNameTheFile()
    {
        var (code, _, err) = Run("verify", "/nonexistent/model.onnx");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/model.onnx", err);
        var (usage, _, usageErr) = Run("verify", "--batch", "x");
        Assert.Equal(2, usage);
        Assert.Contains("error", usageErr);
    }

    /// <summary>A small image folder (2 classes × 3 real JPEGs) plus one corrupt file, built in a temp folder.</summary>
    static string SmallImageFolder()
    {
        var root = Directory.CreateTempSubdirectory("transferkit-cli-data-").FullName;
        foreach (var cls in new[] { "ants", "bees" })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            foreach (var f in Directory.GetFiles(SharedAssets.Dataset(Path.Combine("hymenoptera_data", "train", cls)), "*.jpg").Order().Take(3))
                File.Copy(f, Path.Combine(root, cls, Path.GetFileName(f)));
        }
        File.WriteAllText(Path.Combine(root, "bees", "broken.jpg"), "not an image");
        return root;
    }

    [Fact]
    public void BenchTrainMeasuresAPartlyFrozenStepAndTheHeadStep()
    {
        var model = SharedAssets.Model("mnist-8.onnx");
        var (code, output, _) = Run("bench", model, "--train", "--freeze", "Convolution28", "--batch", "2", "--iterations", "1", "--warmup", "0", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal("train-partial", results[0].GetProperty("mode").GetString());
        Assert.Equal("train-head", results[1].GetProperty("mode").GetString());
        Assert.True(doc.RootElement.GetProperty("native_img_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("peak_rss_mb").GetDouble() > 0);
        var (bad, _, err) = Run("bench", model, "--train", "--freeze", "NoSuchLayer*", "--batch", "2", "--iterations", "1", "--warmup", "0");
        Assert.Equal(2, bad);
        Assert.Contains("NoSuchLayer*", err);
    }

    /// <summary>The profile lists as many of each engine's slowest nodes as --top asks, every node with 0.</summary>
    [Fact]
    public void BenchProfileListsTheSlowestNodesTopAsks()
    {
        var model = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        int Listed(string output, string header) =>
            output.Split('\n').SkipWhile(l => !l.StartsWith(header)).Skip(1).TakeWhile(l => l.StartsWith("  ")).Count();
        var (code, output, err) = Run("bench", model, "--profile", "--top", "3", "--batch", "1", "--iterations", "1");
        Assert.True(code == 0, err);
        Assert.Equal(3, Listed(output, "slowest nodes:"));
        Assert.Equal(3, Listed(output, "ONNX Runtime's slowest nodes:"));
        (code, output, err) = Run("bench", model, "--profile", "--top", "0", "--batch", "1", "--iterations", "1");
        Assert.True(code == 0, err);
        // Every node: the rewritten graph's 23 (8 fire modules as in-place Concats, 9 other convolutions, 3 pools, the
        // global pool and the softmax) and all of ONNX Runtime's profiled nodes (more than the default 25).
        Assert.Equal(23, Listed(output, "slowest nodes:"));
        Assert.True(Listed(output, "ONNX Runtime's slowest nodes:") > 25, output);
    }

    /// <summary>Inference bench runs ONNX Runtime beside the native plan (fixed-batch mnist-8 at batch 3: the batch made symbolic) and reports both and their ratio.</summary>
    [Fact]
    public void BenchInferenceReportsOnnxRuntimeBesideNativeAndTheRatio()
    {
        var model = SharedAssets.Model("mnist-8.onnx");
        var (code, output, _) = Run("bench", model, "--batch", "3", "--threads", "1", "--iterations", "2", "--warmup", "0", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        double native = root.GetProperty("native_img_s").GetDouble(), ort = root.GetProperty("ort_img_s").GetDouble(), ratio = root.GetProperty("ratio").GetDouble();
        Assert.True(native > 0 && ort > 0 && ratio > 0, output);
        Assert.Equal(native / ort, ratio, 1e-9);
        Assert.Equal("onnxruntime", root.GetProperty("results")[1].GetProperty("mode").GetString());
        var (text, human, _) = Run("bench", model, "--batch", "1", "--threads", "1", "--iterations", "1", "--warmup", "0");
        Assert.Equal(0, text);
        Assert.Contains("native / ONNX Runtime", human);
    }

    [Fact]
    public void BenchDataReportsThroughputAndSkippedFiles()
    {
        var data = SmallImageFolder();
        File.WriteAllBytes(Path.Combine(data, "ants", "scan.tiff"), [0x49, 0x49, 0x2A, 0x00]);
        Directory.CreateDirectory(Path.Combine(data, "ants", "x.jpg"));
        File.WriteAllBytes(Path.Combine(data, "bees", ".DS_Store"), [0, 0, 0, 1]);
        var expected = new (string Path, string Reason)[]
        {
            (Path.Combine("ants", "scan.tiff"), "unsupported format .tiff (JPEG, PNG, GIF, BMP, WebP or TGA expected)"),
            (Path.Combine("ants", "x.jpg"), "a directory, not an image file (the files inside it are still read)"),
            (Path.Combine("bees", "broken.jpg"), "not a recognised image format (JPEG, PNG, GIF, BMP, WebP or TGA expected)"),
        };
        var (code, output, _) = Run("bench-data", "--data", data, "--size", "64", "--epochs", "1", "--batch", "4", "--threads", "2", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("img_s").GetDouble() > 0);
        Assert.Equal(6, root.GetProperty("images").GetInt32());
        Assert.Equal(3, root.GetProperty("skipped").GetInt32());
        Assert.Equal(expected, root.GetProperty("skipped_list").EnumerateArray()
            .Select(e => (e.GetProperty("path").GetString()!, e.GetProperty("reason").GetString()!)).ToArray());
        Assert.Equal(64, root.GetProperty("size").GetInt32());
        Assert.Contains("RandomResizedCrop", root.GetProperty("transforms").GetString());
        var (text, human, _) = Run("bench-data", "--data", data, "--size", "32", "--epochs", "1", "--batch", "4", "--threads", "1", "--decode-cache", "0");
        Assert.Equal(0, text);
        Assert.Contains($"3 files skipped (paths relative to {data}):\n", human.ReplaceLineEndings("\n"));
        foreach (var (path, reason) in expected) Assert.Contains($"\n  {path}: {reason}\n", human.ReplaceLineEndings("\n"));
        Assert.DoesNotContain(".DS_Store", human);
        var (missing, _, err) = Run("bench-data", "--data", Path.Combine(data, "nope"));
        Assert.Equal(2, missing);
        Assert.Contains("nope", err);
    }

    [Fact]
    public void AugmentPreviewWritesAGridAndReportsBadFiles()
    {
        var data = SmallImageFolder();
        var png = Path.Combine(data, "grid.png");
        var (code, _, err) = Run("augment-preview", "--data", data, "--transforms", "RandomResizedCrop(48),RandomHorizontalFlip(0.5)", "--count", "7", "--out", png);
        Assert.Equal(0, code);
        Assert.Contains("broken.jpg", err);
        var header = Augment.Imaging.ImageIO.ReadHeader(png);
        Assert.True(header.Width >= 48 * 2 && header.Height >= 48, $"grid is {header.Width}x{header.Height}");
        var (bad, _, badErr) = Run("augment-preview", "--data", data, "--transforms", "Bogus(3)", "--out", png);
        Assert.Equal(2, bad);
        Assert.Contains("Bogus", badErr);
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("inspect")]
    [InlineData("bench")]
    [InlineData("finetune")]
    [InlineData("lr-find")]
    [InlineData("bench-data")]
    [InlineData("augment-preview")]
    [InlineData("tune")]
    [InlineData("export")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    public void EveryVerbHasHelp(string verb)
    {
        var (code, output, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage", output);
    }

    /// <summary>
    /// lr-find on 512 Fashion-MNIST images with mnist-8: the head recipe sweeps from the feature cache, full trains the
    /// whole graph. The CSV holds the curve the JSON describes, and the suggestion is one of its rates.
    /// </summary>
    [Theory]
    [InlineData("head", "feature cache")]
    [InlineData("full", "training the whole graph")]
    public void LrFindWritesTheCurveAndAFiniteSuggestion(string recipe, string dataPath)
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-lr-find-").FullName;
        var csv = Path.Combine(dir, "curve.csv");
        var png = Path.Combine(dir, "curve.png");
        var (code, output, err) = Run("lr-find", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", SharedAssets.Dataset("fashion-mnist"),
            "--recipe", recipe, "--limit-train", "512", "--batch", "32", "--steps", "60", "--augment", "none", "--out", csv, "--plot", png, "--json");
        Assert.True(code == 0, err);
        Assert.Contains(dataPath, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        double suggested = root.GetProperty("suggested_lr").GetDouble();
        Assert.True(double.IsFinite(suggested) && suggested > 1e-7 && suggested < 10, $"suggested {suggested}\n{err}");

        var lines = File.ReadAllLines(csv);
        Assert.Equal("step,lr,loss,smoothed_loss", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.Equal(root.GetProperty("steps_run").GetInt32(), rows.Count);
        Assert.True(rows.Count > 20 && rows.Count <= 60, $"{rows.Count} rows");
        Assert.Equal(1e-7, rows[0][1], 1e-12);
        Assert.All(rows, r => Assert.True(double.IsFinite(r[2]) && double.IsFinite(r[3]) && r[2] >= 0, string.Join(",", r)));
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.Second[1] > p.First[1]), "the learning rate grows every step");
        Assert.Contains(suggested, rows.Select(r => r[1]));
        Assert.Equal(root.GetProperty("stopped_early").GetBoolean(), rows.Count < 60);
        // Written atomically: no temporary files left beside the outputs.
        Assert.Equal(["curve.csv", "curve.png"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        Assert.Equal(800, Augment.Imaging.ImageIO.ReadHeader(png).Width);

        var (bad, _, badErr) = Run("lr-find", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", SharedAssets.Dataset("fashion-mnist"), "--recipe", "two-phase");
        Assert.Equal(2, bad);
        Assert.Contains("two-phase", badErr);
    }

    [Fact]
    public void InspectListsParametersAndOpSupport()
    {
        var (code, output, _) = Run("inspect", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(1235496, root.GetProperty("parameters_total").GetInt64());
        Assert.Equal(7, root.GetProperty("opset").GetInt32());
        Assert.Equal(26, root.GetProperty("op_histogram").GetProperty("Conv").GetInt32());
        Assert.All(root.GetProperty("op_support").EnumerateArray(), op => Assert.True(op.GetProperty("forward").GetBoolean()));
    }

    [Fact]
    public void QuietFineTunePrintsOnlyItsClosingLine()
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-quiet-").FullName;
        try
        {
            var (code, output, err) = Run("finetune", SharedAssets.Model("mnist-8.onnx"), "--data", SharedAssets.Dataset("fashion-mnist"), "--out", Path.Combine(dir, "run"),
                "--recipe", "full", "--epochs", "1", "--limit-train", "60", "--limit-val", "30", "--quiet");
            Assert.True(code == 0, err);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("validation accuracy", lines[0]);
            Assert.True(File.Exists(Path.Combine(dir, "run", "tuned.onnx")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TwoPhaseLogsTheHeadsAndTheBodysRates()
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-two-phase-").FullName;
        try
        {
            var (code, output, err) = Run("finetune", SharedAssets.Model("mnist-8.onnx"), "--data", SharedAssets.Dataset("fashion-mnist"), "--out", Path.Combine(dir, "run"),
                "--recipe", "two-phase", "--epochs", "2", "--lr", "0.002", "--limit-train", "60", "--limit-val", "30", "--augment", "none");
            Assert.True(code == 0, err);
            Assert.Contains("phase head: 1 epochs, sgd lr 0.002,", output);
            Assert.Contains("phase full: 1 epochs, sgd head lr 0.002, body lr 0.0002,", output);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void QuietLogPassesWarningsOnly()
    {
        var warnings = new StringWriter();
        var log = new TransferKit.FineTune.Progress.QuietLog(warnings);
        log.WriteLine("epoch 1/3 [head]  train loss 0.5");
        log.WriteLine("warning: every validation image has been predicted as 'a'");
        log.Write("feature cache  3/10\r\n");
        Assert.Equal("warning: every validation image has been predicted as 'a'" + Environment.NewLine, warnings.ToString());
    }

    [Fact]
    public void InspectShowsLayerShapesOriginalNamesAndMetadata()
    {
        var (code, output, err) = Run("inspect", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), "--input-size", "224", "--json");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(output).RootElement;
        var shapes = root.GetProperty("output_shapes").EnumerateArray().ToArray();
        // SqueezeNet 1.1 at 224: the stem conv gives 64×111×111; its classifier conv10 gives 1000×13×13, then 1000.
        var stem = shapes.First(s => s.GetProperty("op").GetString() == "Conv");
        Assert.Equal([1, 64, 111, 111], stem.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("conv1", stem.GetProperty("layer").GetString());
        var conv10 = shapes.Single(s => s.GetProperty("layer").GetString() == "conv10");
        Assert.Equal([1, 1000, 13, 13], conv10.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(1000, shapes[^1].GetProperty("shape").EnumerateArray().Aggregate(1, (p, d) => p * d.GetInt32()));
        var (text, textOut, _) = Run("inspect", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), "--input-size", "224");
        Assert.Equal(0, text);
        Assert.Contains("(conv10)", textOut);
        Assert.Contains("[1,1000,13,13]", textOut);
        var (bad, _, badErr) = Run("inspect", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), "--input-size", "-3");
        Assert.Equal(2, bad);
        Assert.Contains("--input-size", badErr);
    }

    [Fact]
    public void InspectTellsFoldedShapeArithmeticFromRunTimeOps()
    {
        // The ViT-like net reads its batch with Shape → Gather → Unsqueeze → Concat (all folded at import) and picks the
        // cls token with a run-time Gather: Shape is folded, Gather partly, Softmax and MatMul run.
        var (code, output, err) = Run("inspect", TestNets.VitTiny(size: 64, seed: 7), "--json");
        Assert.True(code == 0, err);
        var ops = JsonDocument.Parse(output).RootElement.GetProperty("op_support").EnumerateArray().ToDictionary(o => o.GetProperty("op").GetString()!);
        Assert.True(ops["Shape"].GetProperty("folded_at_import").GetBoolean());
        Assert.False(ops["MatMul"].GetProperty("folded_at_import").GetBoolean());
        Assert.Equal(0, ops["MatMul"].GetProperty("nodes_folded").GetInt32());
        var gather = ops["Gather"];
        Assert.False(gather.GetProperty("folded_at_import").GetBoolean());
        Assert.True(gather.GetProperty("nodes_folded").GetInt32() > 0);
    }

    [Fact]
    public void InspectOfAnExportShowsItsMetadataAndTheProducerIsThisVersion()
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-inspect-").FullName;
        try
        {
            var exported = Path.Combine(dir, "m.onnx");
            var model = TransferKit.Importers.Onnx.OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
            var proto = TransferKit.Importers.Onnx.OnnxExporter.ToProto(model, new TransferKit.Importers.Onnx.ExportOptions { Metadata = new Dictionary<string, string> { ["labels"] = "[\"a\",\"b\"]" } });
            File.WriteAllBytes(exported, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            var (code, output, err) = Run("inspect", exported);
            Assert.True(code == 0, err);
            // What --version prints: the informational version of the transferkit assembly.
            var version = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(TransferKit.FineTune.Cli.TransferKitCommand).Assembly)!.InformationalVersion;
            Assert.Contains($"producer 'TransferKit {version}'", output);
            Assert.Contains("metadata:", output);
            Assert.Contains("[\"a\",\"b\"]", output);
            // mnist-8's input is fixed at 28×28: layer shapes without --input-size.
            Assert.Contains("[1,16,14,14]", output);
        }
        finally { Directory.Delete(dir, true); }
    }
}
