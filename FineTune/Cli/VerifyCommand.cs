using System.CommandLine;
using System.Text.Json;
using TransferKit.FineTune.Catalog;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit verify</c>: run a model natively and in ONNX Runtime and compare.</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var model = ModelOption.CreateArgument();
        var modelOption = ModelOption.Create();
        var random = new Option<bool>("--random") { Description = "Feed seeded random inputs (the default when no --input is given)." };
        var inputs = new Option<string[]>("--input") { Description = "Images to feed, preprocessed for the model.", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 1 };
        var perNode = new Option<bool>("--per-node") { Description = "Compare every intermediate value and name the first node that leaves tolerance." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 0 };
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset for --input (caffe-imagenet, torchvision-imagenet, mnist, …); default from the model catalogue." };
        var cmd = new Command("verify", "Run a model on TransferKit's kernels and in ONNX Runtime with the same inputs and compare the outputs: |native − ort| ≤ 1e-4 + 1e-3·|ort|. Exit 0 within tolerance, 1 outside, 2 on error.")
        {
            model, modelOption, random, inputs, batch, perNode, json, seed, preprocess,
        };
        cmd.SetAction(parse =>
        {
            var path = ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption));
            var images = parse.GetValue(inputs) ?? [];
            int n = parse.Tokens.Any(t => t.Value == "--batch") || images.Length == 0 ? parse.GetValue(batch) : images.Length;
            if (n < 1) throw new CliException("--batch must be at least 1.");
            if (images.Length > 0 && parse.GetValue(random)) throw new CliException("--random and --input exclude each other.");
            var imported = OnnxImporter.Import(path);
            Tensor[] feed = images.Length > 0
                ? [InputConvention.For(imported, parse.GetValue(preprocess)).Load(images, n)]
                : Verifier.RandomInputs(imported, n, parse.GetValue(seed));
            var report = Verifier.Verify(imported, feed, parse.GetValue(perNode));
            if (parse.GetValue(json)) Console.WriteLine(ToJson(report));
            else Print(report);
            return report.WithinTolerance ? 0 : 1;
        });
        return cmd;
    }

    static void Print(VerifyReport r)
    {
        Console.WriteLine($"{r.Model}  batch {r.Batch}  rule |native − ort| ≤ {r.Tolerance.Atol:g} + {r.Tolerance.Rtol:g}·|ort|");
        foreach (var o in r.Outputs)
            Console.WriteLine($"  {o.Name,-24} {Shapes.Format(o.Shape),-18} max_abs {o.MaxAbs:E3}  max_rel {o.MaxRel:E3}  {(o.WithinTolerance ? "ok" : "OUTSIDE TOLERANCE")}");
        if (r.NodesCompared > 0)
            Console.WriteLine(r.FirstDivergentNode is { } d
                ? $"  first divergent node: {d.Node} ({d.OpType}) value '{d.Value}' max_abs {d.MaxAbs:E3} max_rel {d.MaxRel:E3}"
                : $"  all {r.NodesCompared} intermediate values within tolerance");
        Console.WriteLine($"  native {r.NativeMilliseconds:F1} ms, onnxruntime {r.OrtMilliseconds:F1} ms");
        Console.WriteLine(r.WithinTolerance ? "PASS: within tolerance" : "FAIL: outside tolerance");
    }

    static string ToJson(VerifyReport r) => JsonSerializer.Serialize(new
    {
        model = r.Model,
        batch = r.Batch,
        within_tolerance = r.WithinTolerance,
        max_abs = r.MaxAbs,
        max_rel = r.MaxRel,
        atol = r.Tolerance.Atol,
        rtol = r.Tolerance.Rtol,
        outputs = r.Outputs.Select(o => new { name = o.Name, shape = o.Shape, max_abs = o.MaxAbs, max_rel = o.MaxRel, within_tolerance = o.WithinTolerance }),
        first_divergent_node = r.FirstDivergentNode is { } d ? new { node = d.Node, op_type = d.OpType, value = d.Value, max_abs = d.MaxAbs, max_rel = d.MaxRel } : null,
        nodes_compared = r.NodesCompared,
        native_ms = r.NativeMilliseconds,
        ort_ms = r.OrtMilliseconds,
    }, JsonOptions);

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
