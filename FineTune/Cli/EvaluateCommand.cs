using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TransferKit.FineTune.Evaluation;
using TransferKit.FineTune.Inference;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit evaluate</c>: accuracy, per-class precision/recall/F1 and the confusion matrix of a classifier on an image folder.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .onnx classifier (e.g. a run's tuned.onnx)." };
        var data = new Option<string?>("--data") { Description = "Folder of class subfolders; when it holds val/ (or validation/), that subfolder is evaluated." };
        var engine = new Option<string>("--engine") { Description = "native (TransferKit's kernels) or ort (ONNX Runtime).", DefaultValueFactory = _ => "native" };
        engine.AcceptOnlyFromAmong([.. InferenceEngine.Names]);
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset; default: the model's metadata, else the model catalogue, else a guess from the input shape." };
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 16 }.Batch();
        var threads = new Option<int>("--threads") { Description = "Decoding threads (default: all cores).", DefaultValueFactory = _ => 0 }.Threads();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average each image's class probabilities over torchvision's ten crops of the resized image (centre and corners, each mirrored), or over the view and its mirror when the model takes an exact resize." };
        var cmd = new Command("evaluate", "Evaluate a classifier on a labelled image folder: accuracy, per-class precision, recall and F1, confusion matrix. Folder names map to classes through the model's labels metadata (else sorted folder names are classes 0, 1, …).")
        {
            model, data, engine, preprocess, batch, threads, json, tta,
        };
        cmd.SetAction(parse =>
        {
            var dir = parse.GetValue(data) ?? throw new CliException("--data is required.");
            int n = parse.GetValue(batch);
            if (n < 1) throw new CliException("--batch must be at least 1.");
            using var classifier = ImageClassifier.Open(parse.GetValue(model)!, parse.GetValue(engine)!, parse.GetValue(preprocess), parse.GetValue(threads));
            var result = Evaluator.Run(classifier, dir, n, parse.GetValue(threads), parse.GetValue(tta));
            if (parse.GetValue(json)) Console.WriteLine(ToJson(result));
            else Print(result);
            return 0;
        });
        return cmd;
    }

    static void Print(EvaluationResult r)
    {
        Console.WriteLine($"{r.Model}  engine {r.Engine}  preprocessing {r.Preprocessing} (from {r.PreprocessingSource})");
        Console.WriteLine($"{r.Data}: {r.Images} images, {r.Skipped.Count} skipped, {r.Seconds:F1}s" + (r.TtaViews > 1 ? $", test-time augmentation over {r.TtaViews} views" : ""));
        Console.Write(Augment.Loading.SkippedFile.ConsoleListing(r.Skipped, relativeTo: r.Data));
        Console.WriteLine($"accuracy {F(100 * r.Accuracy, "F2")} % ({r.Confusion.Correct}/{r.Images})");
        var involved = r.Involved;
        int w = Math.Max(13, involved.Max(c => c.Name.Length) + 1);
        Console.WriteLine($"{"class".PadRight(w)} {"support",8} {"precision",10} {"recall",8} {"F1",8}");
        foreach (var c in involved)
            Console.WriteLine($"{c.Name.PadRight(w)} {c.Support,8} {F(c.Precision, "F3"),10} {F(c.Recall, "F3"),8} {F(c.F1, "F3"),8}");
        var m = r.Macro;
        Console.WriteLine($"{"macro average".PadRight(w)} {r.Images,8} {F(m.Precision, "F3"),10} {F(m.Recall, "F3"),8} {F(m.F1, "F3"),8}");
        Console.WriteLine("confusion matrix (rows: true class, columns: predicted class)");
        var rows = r.Confusion.Subset(involved.Select(c => c.Index).ToList());
        int cw = Math.Max(6, Math.Max(involved.Max(c => Math.Min(c.Name.Length, 12)), rows.Total.ToString(CultureInfo.InvariantCulture).Length) + 1);
        Console.WriteLine("".PadRight(w) + string.Concat(involved.Select(c => Cut(c.Name, 12).PadLeft(cw))));
        for (int a = 0; a < involved.Count; a++)
            Console.WriteLine(involved[a].Name.PadRight(w) + string.Concat(Enumerable.Range(0, involved.Count).Select(b => rows[a, b].ToString(CultureInfo.InvariantCulture).PadLeft(cw))));
    }

    static string ToJson(EvaluationResult r)
    {
        var involved = r.Involved;
        var m = r.Macro;
        return JsonSerializer.Serialize(new
        {
            model = r.Model,
            data = r.Data,
            engine = r.Engine,
            preprocessing = r.Preprocessing,
            preprocessing_source = r.PreprocessingSource,
            images = r.Images,
            correct = r.Confusion.Correct,
            accuracy = r.Accuracy,
            tta_views = r.TtaViews,
            skipped = r.Skipped.Select(s => new { path = s.Path, reason = s.Reason }),
            macro_precision = m.Precision,
            macro_recall = m.Recall,
            macro_f1 = m.F1,
            per_class = involved.Select(c => new { index = c.Index, name = c.Name, support = c.Support, predicted = c.Predicted, precision = c.Precision, recall = c.Recall, f1 = c.F1 }),
            confusion_classes = involved.Select(c => c.Name),
            confusion_matrix = r.Confusion.Subset(involved.Select(c => c.Index).ToList()).ToRows(),
            seconds = r.Seconds,
        });
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    static string Cut(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
