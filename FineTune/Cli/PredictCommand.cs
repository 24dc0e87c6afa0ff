using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TransferKit.FineTune.Inference;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit predict</c>: the top-k classes of each image, with probabilities and label names.</summary>
public static class PredictCommand
{
    /// <summary>Images decoded and run together.</summary>
    const int ChunkSize = 16;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .onnx classifier (e.g. a run's tuned.onnx)." };
        var images = new Argument<string[]>("images") { Description = "Images to classify: files, folders (every image file under them) and globs ('photos/**/*.jpg'; quote them so the shell leaves them alone).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Also write the predictions to this file: .csv (image, rank, index, label, probability; one row per class shown) or .json (what --json prints)." };
        var top = new Option<int>("--top") { Description = "How many classes to show per image.", DefaultValueFactory = _ => 5 };
        var engine = new Option<string>("--engine") { Description = "native (TransferKit's kernels) or ort (ONNX Runtime).", DefaultValueFactory = _ => "native" };
        engine.AcceptOnlyFromAmong([.. InferenceEngine.Names]);
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset; default: the model's metadata, else the model catalogue, else a guess from the input shape." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a list." };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average the class probabilities over torchvision's ten crops of the resized image (centre and corners, each mirrored), or over the view and its mirror when the model takes an exact resize." };
        var cmd = new Command("predict", "Classify images: the top-k classes with probabilities, named by the model's labels metadata. Outputs that are already probabilities (every row in [0, 1] summing to 1 within 1e-3) are used as they are; otherwise a softmax is applied.")
        {
            model, images, top, engine, preprocess, json, tta, output,
        };
        cmd.SetAction(parse =>
        {
            int k = parse.GetValue(top);
            if (k < 1) throw new CliException("--top must be at least 1.");
            var outFile = parse.GetValue(output);
            string? format = outFile == null ? null : Path.GetExtension(outFile).ToLowerInvariant() switch
            {
                ".csv" => "csv",
                ".json" => "json",
                var e => throw new CliException($"--out '{outFile}': write .csv or .json, not '{e}'."),
            };
            var files = ImageArguments.Expand(parse.GetValue(images)!).ToArray();
            using var classifier = ImageClassifier.Open(parse.GetValue(model)!, parse.GetValue(engine)!, parse.GetValue(preprocess));
            var results = new List<(string Image, (int Index, float P)[] Top)>();
            bool softmax = false;
            foreach (var chunk in files.Chunk(ChunkSize))
            {
                var (probs, classes, applied) = classifier.Classify(chunk, parse.GetValue(tta));
                softmax |= applied;
                for (int i = 0; i < chunk.Length; i++)
                {
                    var row = probs.AsSpan(i * classes, classes).ToArray();
                    // Highest probability first; the lower index first on ties.
                    var best = Enumerable.Range(0, classes).OrderByDescending(c => row[c]).ThenBy(c => c).Take(k).Select(c => (c, row[c])).ToArray();
                    results.Add((chunk[i], best));
                }
            }
            string Json() => JsonSerializer.Serialize(new
                {
                    model = classifier.Engine.File,
                    engine = classifier.Engine.Name,
                    preprocessing = classifier.Convention.Preprocessing.Name,
                    preprocessing_source = classifier.PreprocessingSource,
                    softmax_applied = softmax,
                    tta_views = parse.GetValue(tta) ? classifier.Convention.Preprocessing.TestTimePipelines().Count : 1,
                    predictions = results.Select(r => new
                    {
                        image = r.Image,
                        top = r.Top.Select(t => new { index = t.Index, label = classifier.LabelOf(t.Index), probability = t.P }),
                    }),
                });
            if (format != null)
            {
                Training.FineTuneJob.WriteAtomically(outFile!, format == "json" ? Json() + "\n" : Csv(results, classifier));
                Console.Error.WriteLine($"wrote {outFile} ({results.Count} images)");
            }
            if (parse.GetValue(json))
                Console.WriteLine(Json());
            else
            {
                Console.WriteLine($"{classifier.Engine.File}  engine {classifier.Engine.Name}  preprocessing {classifier.Convention.Preprocessing.Name} (from {classifier.PreprocessingSource}); {(softmax ? "softmax applied to the outputs" : "the outputs are probabilities")}");
                foreach (var (image, best) in results)
                {
                    Console.WriteLine(image);
                    for (int r = 0; r < best.Length; r++)
                        Console.WriteLine($"  {r + 1,2}. {(100 * best[r].P).ToString("F2", CultureInfo.InvariantCulture),6} %  {classifier.LabelOf(best[r].Index)} ({best[r].Index})");
                }
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>One row per image and rank: image, rank (1 = best), class index, label, probability; fields quoted as RFC 4180 asks.</summary>
    static string Csv(List<(string Image, (int Index, float P)[] Top)> results, ImageClassifier classifier)
    {
        static string Field(string v) => v.IndexOfAny([',', '"', '\n', '\r']) < 0 ? v : "\"" + v.Replace("\"", "\"\"") + "\"";
        var sb = new System.Text.StringBuilder("image,rank,index,label,probability\n");
        foreach (var (image, best) in results)
            for (int r = 0; r < best.Length; r++)
                sb.Append(Field(image)).Append(',').Append(r + 1).Append(',').Append(best[r].Index).Append(',')
                  .Append(Field(classifier.LabelOf(best[r].Index))).Append(',')
                  .Append(best[r].P.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }
}
