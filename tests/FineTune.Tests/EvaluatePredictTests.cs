using System.Text.Json;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// <c>evaluate</c> and <c>predict</c> through the command line on a tiny tuned model, with both engines: TransferKit's
/// kernels and ONNX Runtime must give the same confusion matrix and (within tolerance) the same probabilities.
/// </summary>
[Collection("Console")]
public class EvaluatePredictTests(TinyMnistRun run) : IClassFixture<TinyMnistRun>
{
    /// <summary>Native vs ONNX Runtime probabilities (softmax of logits that agree within the import tolerance).</summary>
    const double EngineProbabilityTolerance = 1e-4;

    /// <summary>A probability row's sum vs 1.</summary>
    const double SumTolerance = 1e-4;

    static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    static JsonElement Json(string output) => JsonDocument.Parse(output).RootElement.Clone();

    [Fact]
    public void EvaluateAgreesAcrossEnginesAndWithTheRun()
    {
        var results = new Dictionary<string, JsonElement>();
        foreach (var engine in new[] { "native", "ort" })
        {
            var (code, output, err) = Run("evaluate", run.Tuned, "--data", run.Data, "--engine", engine, "--batch", "7", "--json");
            Assert.True(code == 0, err);
            results[engine] = Json(output);
        }
        var native = results["native"];
        // DIR has train/ and val/: val/ is what gets evaluated.
        Assert.Equal(Path.Combine(run.Data, "val"), native.GetProperty("data").GetString());
        Assert.Equal("model metadata", native.GetProperty("preprocessing_source").GetString());
        int images = TinyMnistRun.Classes * TinyMnistRun.ValPerClass;
        Assert.Equal(images, native.GetProperty("images").GetInt32());
        Assert.Equal(["0", "1", "2"], native.GetProperty("confusion_classes").EnumerateArray().Select(e => e.GetString()));
        var matrix = native.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.Equal(images, matrix.Sum(r => r.Sum()));
        Assert.All(matrix, r => Assert.Equal(TinyMnistRun.ValPerClass, r.Sum()));
        long diagonal = Enumerable.Range(0, matrix.Length).Sum(i => matrix[i][i]);
        Assert.Equal((double)diagonal / images, native.GetProperty("accuracy").GetDouble());
        // Same images, same preprocessing, same weights as the run's best-epoch validation.
        Assert.Equal(run.Summary.ValAccuracy, native.GetProperty("accuracy").GetDouble());
        // Recall of a class is its diagonal cell over its row.
        foreach (var c in native.GetProperty("per_class").EnumerateArray())
        {
            int k = c.GetProperty("index").GetInt32();
            Assert.Equal((double)matrix[k][k] / matrix[k].Sum(), c.GetProperty("recall").GetDouble(), 12);
        }
        // ONNX Runtime: the same counts.
        Assert.Equal(native.GetProperty("confusion_matrix").ToString(), results["ort"].GetProperty("confusion_matrix").ToString());
        Assert.Equal("ort", results["ort"].GetProperty("engine").GetString());
    }

    [Fact]
    public void EvaluateListsSkippedFilesWithTheirReasons()
    {
        var data = Directory.CreateTempSubdirectory("transferkit-evaluate-skipped-").FullName;
        try
        {
            foreach (var cls in Directory.GetDirectories(Path.Combine(run.Data, "val")))
            {
                var dir = Directory.CreateDirectory(Path.Combine(data, Path.GetFileName(cls))).FullName;
                foreach (var f in Directory.GetFiles(cls)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            }
            File.WriteAllBytes(Path.Combine(data, "0", "scan.tiff"), [0x49, 0x49, 0x2A, 0x00]);
            File.WriteAllBytes(Path.Combine(data, "1", "empty.png"), []);
            var expected = new (string Path, string Reason)[]
            {
                (Path.Combine("0", "scan.tiff"), "unsupported format .tiff (JPEG, PNG, GIF, BMP, WebP or TGA expected)"),
                (Path.Combine("1", "empty.png"), "the file is empty (0 bytes)"),
            };
            var (code, output, err) = Run("evaluate", run.Tuned, "--data", data, "--json");
            Assert.True(code == 0, err);
            Assert.Equal(expected.Select(e => (Path.Combine(data, e.Path), e.Reason)), Json(output).GetProperty("skipped").EnumerateArray()
                .Select(e => (e.GetProperty("path").GetString()!, e.GetProperty("reason").GetString()!)));
            var (text, human, _) = Run("evaluate", run.Tuned, "--data", data);
            Assert.Equal(0, text);
            Assert.Contains($"2 files skipped (paths relative to {data}):\n" + string.Concat(expected.Select(e => $"  {e.Path}: {e.Reason}\n")), human.ReplaceLineEndings("\n"));
        }
        finally { Directory.Delete(data, true); }
    }

    /// <summary>The pretrained mnist-8 reads MNIST test digits far above chance (1 in 10).</summary>
    const double PretrainedMnistMinimumAccuracy = 0.9;

    [Fact]
    public void EvaluateAPretrainedModelWithoutLabels()
    {
        // mnist-8 has no labels metadata and a batch fixed at 1 in the file: sorted folder names 0, 1, 2 are its classes
        // 0, 1, 2; preprocessing comes from the catalogue; ONNX Runtime runs the batches one image at a time.
        var matrices = new List<string>();
        foreach (var engine in new[] { "native", "ort" })
        {
            var (code, output, err) = Run("evaluate", SharedAssets.Model("mnist-8.onnx"), "--data", run.Data, "--engine", engine, "--json");
            Assert.True(code == 0, err);
            var root = Json(output);
            Assert.Equal("catalogue", root.GetProperty("preprocessing_source").GetString());
            Assert.True(root.GetProperty("accuracy").GetDouble() >= PretrainedMnistMinimumAccuracy, output);
            // Only classes in the data or in the predictions are listed, and every true class is among them.
            var listed = root.GetProperty("per_class").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
            Assert.Subset(listed.ToHashSet(), new HashSet<string?> { "0", "1", "2" });
            Assert.All(root.GetProperty("per_class").EnumerateArray(), c => Assert.True(c.GetProperty("support").GetInt32() > 0 || c.GetProperty("predicted").GetInt32() > 0));
            matrices.Add(root.GetProperty("confusion_matrix").ToString());
        }
        Assert.Equal(matrices[0], matrices[1]);
    }

    [Fact]
    public void EvaluateTextNamesAccuracyAndClasses()
    {
        var (code, output, err) = Run("evaluate", run.Tuned, "--data", Path.Combine(run.Data, "val"));
        Assert.True(code == 0, err);
        Assert.Contains("accuracy", output);
        Assert.Contains("macro average", output);
        Assert.Contains("confusion matrix", output);
    }

    [Fact]
    public void EvaluateRefusesAFolderThatIsNotAModelClass()
    {
        var data = Directory.CreateTempSubdirectory("transferkit-eval-unknown-").FullName;
        try
        {
            var seven = Directory.CreateDirectory(Path.Combine(data, "7")).FullName;
            File.Copy(run.ValImages("1")[0], Path.Combine(seven, "a.png"));
            var (code, _, err) = Run("evaluate", run.Tuned, "--data", data);
            Assert.Equal(2, code);
            Assert.Contains(seven, err);
            Assert.Contains("not one of the model's classes", err);
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public void PredictAgreesAcrossEngines()
    {
        var images = new[] { run.ValImages("0")[0], run.ValImages("1")[0], run.ValImages("2")[0] };
        var results = new Dictionary<string, JsonElement>();
        foreach (var engine in new[] { "native", "ort" })
        {
            var (code, output, err) = Run(["predict", run.Tuned, .. images, "--top", "3", "--engine", engine, "--json"]);
            Assert.True(code == 0, err);
            results[engine] = Json(output);
        }
        // mnist-8 ends in logits: the rule applies a softmax.
        Assert.True(results["native"].GetProperty("softmax_applied").GetBoolean());
        var native = results["native"].GetProperty("predictions").EnumerateArray().ToArray();
        var ort = results["ort"].GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(images.Length, native.Length);
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(images[i], native[i].GetProperty("image").GetString());
            var a = native[i].GetProperty("top").EnumerateArray().ToArray();
            var b = ort[i].GetProperty("top").EnumerateArray().ToArray();
            Assert.Equal(3, a.Length);
            // Labels come from the model's metadata; all three classes listed, best first.
            Assert.Equal(["0", "1", "2"], a.Select(t => t.GetProperty("label").GetString()).Order());
            Assert.True(a[0].GetProperty("probability").GetDouble() >= a[1].GetProperty("probability").GetDouble());
            Assert.Equal(1.0, a.Sum(t => t.GetProperty("probability").GetDouble()), SumTolerance);
            for (int r = 0; r < 3; r++)
            {
                Assert.Equal(a[r].GetProperty("index").GetInt32(), b[r].GetProperty("index").GetInt32());
                Assert.Equal(a[r].GetProperty("probability").GetDouble(), b[r].GetProperty("probability").GetDouble(), EngineProbabilityTolerance);
            }
        }
    }

    [Fact]
    public void PredictUsesAModelsOwnSoftmaxAndTheCatalogue()
    {
        // SqueezeNet 1.1 ends in a Softmax: its outputs are used as they are; preprocessing comes from the catalogue.
        var image = Directory.GetFiles(SharedAssets.Dataset("hymenoptera_data/val/bees"), "*.jpg").Order(StringComparer.Ordinal).First();
        var (code, output, err) = Run("predict", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), image, "--top", "2", "--json");
        Assert.True(code == 0, err);
        var root = Json(output);
        Assert.False(root.GetProperty("softmax_applied").GetBoolean());
        Assert.Equal("catalogue", root.GetProperty("preprocessing_source").GetString());
        var top = root.GetProperty("predictions")[0].GetProperty("top");
        Assert.Equal(2, top.GetArrayLength());
        Assert.InRange(top[0].GetProperty("index").GetInt32(), 0, 999);
    }

    /// <summary>A mean of two probability rows computed in another order (float rounding only).</summary>
    const double TtaMeanTolerance = 1e-6;

    [Fact]
    public void PredictWithTtaAveragesTheViewAndItsMirror()
    {
        // The tiny model resizes exactly to its input: its test-time views are the image and its left–right mirror, so
        // --tta must give the mean of the plain predictions for the image and for a mirrored copy of it.
        var dir = Directory.CreateTempSubdirectory("transferkit-tta-").FullName;
        try
        {
            var image = run.ValImages("1")[0];
            var mirrored = Path.Combine(dir, "mirrored.png");
            using (var img = SixLabors.ImageSharp.Image.Load(image))
            {
                SixLabors.ImageSharp.Processing.ProcessingExtensions.Mutate(img, x => SixLabors.ImageSharp.Processing.FlipExtensions.Flip(x, SixLabors.ImageSharp.Processing.FlipMode.Horizontal));
                SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, mirrored);
            }
            double[] Probabilities(JsonElement prediction) => prediction.GetProperty("top").EnumerateArray()
                .OrderBy(t => t.GetProperty("index").GetInt32()).Select(t => t.GetProperty("probability").GetDouble()).ToArray();
            var (code, output, err) = Run("predict", run.Tuned, image, mirrored, "--top", "3", "--json");
            Assert.True(code == 0, err);
            var plain = Json(output).GetProperty("predictions").EnumerateArray().Select(Probabilities).ToArray();
            Assert.NotEqual(plain[0], plain[1]);
            var (ttaCode, ttaOutput, ttaErr) = Run("predict", run.Tuned, image, "--top", "3", "--tta", "--json");
            Assert.True(ttaCode == 0, ttaErr);
            var root = Json(ttaOutput);
            Assert.Equal(2, root.GetProperty("tta_views").GetInt32());
            var tta = Probabilities(root.GetProperty("predictions")[0]);
            for (int k = 0; k < tta.Length; k++) Assert.Equal((plain[0][k] + plain[1][k]) / 2, tta[k], TtaMeanTolerance);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EvaluateWithTtaCountsEveryImageOnce()
    {
        var (code, output, err) = Run("evaluate", run.Tuned, "--data", run.Data, "--tta", "--batch", "4", "--json");
        Assert.True(code == 0, err);
        var root = Json(output);
        Assert.Equal(2, root.GetProperty("tta_views").GetInt32());
        int images = TinyMnistRun.Classes * TinyMnistRun.ValPerClass;
        Assert.Equal(images, root.GetProperty("images").GetInt32());
        var matrix = root.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.All(matrix, r => Assert.Equal(TinyMnistRun.ValPerClass, r.Sum()));
    }

    [Fact]
    public void PredictWithTtaTakesTenCropsWhenThePresetResizesThenCrops()
    {
        var image = Directory.GetFiles(SharedAssets.Dataset("hymenoptera_data/val/ants"), "*.jpg").Order(StringComparer.Ordinal).First();
        var (code, output, err) = Run("predict", SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"), image, "--top", "1", "--tta", "--json");
        Assert.True(code == 0, err);
        var root = Json(output);
        Assert.Equal(10, root.GetProperty("tta_views").GetInt32());
        Assert.InRange(root.GetProperty("predictions")[0].GetProperty("top")[0].GetProperty("probability").GetDouble(), 0.0, 1.0);
    }

    [Fact]
    public void PredictTakesFoldersAndGlobsAndWritesCsvOrJson()
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-predict-out-").FullName;
        try
        {
            var folder = Path.GetDirectoryName(run.ValImages("0")[0])!;
            var inFolder = Directory.GetFiles(folder).Where(f => f.EndsWith(".png")).Order(StringComparer.Ordinal).ToArray();
            var csv = Path.Combine(dir, "p.csv");
            // A folder, a glob over another class's folder, and a file already named: each image once.
            var glob = Path.Combine(Path.GetDirectoryName(folder)!, "1", "*.png");
            var (code, _, err) = Run("predict", run.Tuned, folder, glob, inFolder[0], "--top", "2", "--out", csv);
            Assert.True(code == 0, err);
            var rows = File.ReadAllLines(csv);
            Assert.Equal("image,rank,index,label,probability", rows[0]);
            var images = rows.Skip(1).Select(r => r.Split(',')[0]).Distinct().ToArray();
            var expected = inFolder.Concat(run.ValImages("1").Order(StringComparer.Ordinal)).ToArray();
            Assert.Equal(expected.Length, images.Length);
            Assert.Equal(expected.Select(Path.GetFullPath), images.Select(Path.GetFullPath));
            Assert.Equal(2 * expected.Length, rows.Length - 1);
            Assert.All(rows.Skip(1), r => Assert.InRange(double.Parse(r.Split(',')[4], System.Globalization.CultureInfo.InvariantCulture), 0.0, 1.0));

            var json = Path.Combine(dir, "p.json");
            var (jsonCode, printed, jsonErr) = Run("predict", run.Tuned, glob, "--out", json, "--json");
            Assert.True(jsonCode == 0, jsonErr);
            Assert.Equal(printed.Trim(), File.ReadAllText(json).Trim());
            Assert.Equal(run.ValImages("1").Length, Json(printed).GetProperty("predictions").GetArrayLength());

            var (noMatch, _, noMatchErr) = Run("predict", run.Tuned, Path.Combine(folder, "*.webp"));
            Assert.Equal(2, noMatch);
            Assert.Contains("No image file matches", noMatchErr);
            var (badOut, _, badOutErr) = Run("predict", run.Tuned, inFolder[0], "--out", Path.Combine(dir, "p.xlsx"));
            Assert.Equal(2, badOut);
            Assert.Contains("p.xlsx", badOutErr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PredictTextAndErrors()
    {
        var (code, output, err) = Run("predict", run.Tuned, run.ValImages("2")[0], "--top", "1");
        Assert.True(code == 0, err);
        Assert.Contains(" 1. ", output);
        Assert.Contains("softmax applied", output);
        var (missing, _, missingErr) = Run("predict", run.Tuned, "/nonexistent/digit.png");
        Assert.Equal(2, missing);
        Assert.Contains("/nonexistent/digit.png", missingErr);
        var (badEngine, _, _) = Run("predict", run.Tuned, run.ValImages("2")[0], "--engine", "gpu");
        Assert.Equal(2, badEngine);
    }
}
