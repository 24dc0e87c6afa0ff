using System.CommandLine;
using System.Text.Json;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// <c>transferkit verify</c>: run a model natively and in ONNX Runtime and compare; with <c>--grad</c>, check the
/// training gradients of the whole model against central differences instead.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var model = ModelOption.CreateArgument();
        var modelOption = ModelOption.Create();
        var random = new Option<bool>("--random") { Description = "Feed seeded random inputs (the default when no --input is given)." };
        var inputs = new Option<string[]>("--input") { Description = "Images to feed, preprocessed for the model.", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 1 };
        var perNode = new Option<bool>("--per-node") { Description = $"Compare every intermediate value, each node fed ONNX Runtime's values of its inputs, and name the first node that leaves tolerance; a reduction (Conv, ConvTranspose, Gemm, MatMul) is also allowed its float32 round-off, {RoundingAllowance.Factor:g}·2⁻²⁴·√K·Σ|w·x| per element. "
            + $"With --grad: check every node on the backward path instead — its output gradient against finite differences of the loss with that output alone moved, its op's input gradients against finite differences of the op alone — and name the node closest to the loss whose output gradient is right and input gradient wrong (its backward is the bug); {NodeGradientCheck.DefaultDirections} directions per node output and per input unless --directions says otherwise (at most {NodeGradientCheck.MaxDirections}), each output direction costing four forward passes." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 0 };
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset for --input (caffe-imagenet, torchvision-imagenet, mnist, …); default from the model catalogue." };
        var grad = new Option<bool>("--grad") { Description = $"Instead of comparing with ONNX Runtime, check the training gradients of the whole model: every checked trainable parameter's gradient from the training plan against Richardson-extrapolated central differences of the loss (--loss: cross-entropy or mse) along seeded random directions (Relu/Clip/max-pool switches held), relative error ≤ {GradientCheck.Tolerance:g}. Seeded random inputs; the batch defaults to 2." };
        var classes = new Option<int>("--classes") { Description = "With --grad: replace the head with a new one for N classes (0: keep the model's head).", DefaultValueFactory = _ => 0 };
        var head = new Option<string?>("--head") { Description = "With --grad: the classifier node (found automatically by default)." };
        var recipe = new Option<string>("--recipe") { Description = "With --grad: full (every parameter trains) or head (the body frozen), before --freeze/--unfreeze.", DefaultValueFactory = _ => "full" };
        var freeze = new Option<string[]>("--freeze") { Description = "With --grad: freeze parameters or nodes matching these globs; ..NODE freezes everything up to and including NODE.", AllowMultipleArgumentsPerToken = true };
        var unfreeze = new Option<string[]>("--unfreeze") { Description = "With --grad: unfreeze parameters or nodes matching these globs.", AllowMultipleArgumentsPerToken = true };
        var bn = new Option<BatchNormPolicy>("--bn") { Description = "With --grad: batch norm in frozen layers: eval, affine, train (as finetune).", DefaultValueFactory = _ => BatchNormPolicy.Eval };
        var directions = new Option<int>("--directions") { Description = $"With --grad: random directions per parameter tensor (the median counts); with --grad --per-node, per node output and per input gradient (at most {NodeGradientCheck.MaxDirections}).", DefaultValueFactory = _ => GradientCheck.DefaultDirections };
        var epsilon = new Option<double>("--epsilon") { Description = "With --grad: the step, relative to each parameter tensor's RMS.", DefaultValueFactory = _ => GradientCheck.DefaultEpsilon };
        var loss = new Option<string>("--loss")
        {
            Description = "With --grad: the loss to differentiate. cross-entropy (default): on the logits against cycling labels, for classifiers. "
                + "mse: mean squared error of the whole output against a seeded standard-normal target of the output's shape, the model's output as it is "
                + "(no head replacement, no Softmax set aside) — the generic check for dense-prediction and other non-classifier models.",
            DefaultValueFactory = _ => "cross-entropy",
        };
        loss.Validators.Add(result =>
        {
            var v = result.GetValueOrDefault<string>();
            if (v is not ("cross-entropy" or "mse")) result.AddError($"--loss '{v}' is not a loss: cross-entropy or mse.");
        });
        var size = new Option<int>("--size")
        {
            Description = $"Height and width (every dynamic input axis after the batch) of the random inputs, in pixels (default {OnnxImporter.DynamicSizeAtImport}); models with fixed input sizes take only those.",
            DefaultValueFactory = _ => OnnxImporter.DynamicSizeAtImport,
        }.Size();
        var maxParams = new Option<int>("--max-params") { Description = "With --grad: check at most N parameter tensors, spread over the graph, the last one included (0: all trainable).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("verify", "Run a model on TransferKit's kernels and in ONNX Runtime with the same inputs and compare the outputs: |native − ort| ≤ 1e-4 + 1e-3·|ort|. With --grad, check the whole model's training gradients against finite differences instead. Exit 0 within tolerance, 1 outside, 2 on error.")
        {
            model, modelOption, random, inputs, batch, perNode, json, seed, preprocess,
            grad, classes, head, recipe, freeze, unfreeze, bn, directions, epsilon, maxParams, loss, size,
        };
        var limits = new ImportLimitOptions();
        limits.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            bool sizeGiven = parse.Tokens.Any(t => t.Value == "--size");
            int? sizeValue = sizeGiven ? parse.GetValue(size) : null;
            bool lossGiven = parse.Tokens.Any(t => t.Value == "--loss");
            if (lossGiven && !parse.GetValue(grad)) throw new CliException("--loss chooses the loss of --grad; it needs --grad.");
            if (parse.GetValue(grad))
            {
                if ((parse.GetValue(inputs) ?? []).Length > 0)
                    throw new CliException("--grad runs on seeded random inputs; it does not take --input.");
                var recipeName = parse.GetValue(recipe)!;
                if (recipeName is not ("full" or "head")) throw new CliException($"--recipe must be full or head, not '{recipeName}'.");
                var lossKind = parse.GetValue(loss) == "mse" ? GradientCheckLoss.MeanSquaredError : GradientCheckLoss.CrossEntropy;
                if (lossKind == GradientCheckLoss.MeanSquaredError && (parse.GetValue(classes) > 0 || parse.GetValue(head) != null || recipeName == "head"))
                    throw new CliException("--loss mse checks the model's output as it is; it does not take --classes, --head or --recipe head.");
                var settings = new GradientCheckSettings
                {
                    Classes = parse.GetValue(classes), Head = parse.GetValue(head), Recipe = recipeName,
                    Freeze = parse.GetValue(freeze) ?? [], Unfreeze = parse.GetValue(unfreeze) ?? [], Bn = parse.GetValue(bn),
                    Batch = parse.Tokens.Any(t => t.Value == "--batch") ? parse.GetValue(batch) : 2, Seed = parse.GetValue(seed),
                    Size = sizeValue, Loss = lossKind,
                };
                if (settings.Batch < 1) throw new CliException("--batch must be at least 1.");
                if (settings.Classes < 0) throw new CliException("--classes must be 0 (keep the head) or a class count.");
                if (parse.GetValue(directions) < 1) throw new CliException("--directions must be at least 1.");
                bool directionsGiven = parse.Tokens.Any(t => t.Value == "--directions");
                if (parse.GetValue(perNode) && directionsGiven && parse.GetValue(directions) > NodeGradientCheck.MaxDirections)
                    throw new CliException($"--grad --per-node takes at most {NodeGradientCheck.MaxDirections} directions per node.");
                if (parse.GetValue(perNode) && parse.Tokens.Any(t => t.Value == "--max-params"))
                    throw new CliException("--max-params limits the parameters --grad checks; --grad --per-node checks every node on the backward path.");
                if (!(parse.GetValue(epsilon) > 0)) throw new CliException("--epsilon must be positive.");
                var modelPath = ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption));
                var (m, plan) = GradientCheckJob.Prepare(modelPath, settings);
                if (sizeGiven) CheckSizeApplies(m, sizeValue!.Value);
                if (parse.GetValue(perNode))
                    return GradientPerNodeOutput.Report(modelPath, settings, parse.GetValue(json), GradientCheckJob.RunPerNode(m, plan, settings, new GradientCheckOptions
                    {
                        Directions = directionsGiven ? parse.GetValue(directions) : NodeGradientCheck.DefaultDirections, Epsilon = parse.GetValue(epsilon), Seed = parse.GetValue(seed),
                    }));
                var gradReport = GradientCheckJob.Run(m, plan, settings, new GradientCheckOptions
                {
                    Directions = parse.GetValue(directions), Epsilon = parse.GetValue(epsilon), Seed = parse.GetValue(seed), MaxParameters = parse.GetValue(maxParams),
                });
                string lossName = lossKind == GradientCheckLoss.MeanSquaredError ? "mse" : "cross-entropy";
                if (parse.GetValue(json)) Console.WriteLine(ToJson(modelPath, settings.Batch, lossName, gradReport));
                else Print(modelPath, settings.Batch, lossName, gradReport);
                return gradReport.Passed ? 0 : 1;
            }

            var path = ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption));
            var images = parse.GetValue(inputs) ?? [];
            int n = parse.Tokens.Any(t => t.Value == "--batch") || images.Length == 0 ? parse.GetValue(batch) : images.Length;
            if (n < 1) throw new CliException("--batch must be at least 1.");
            if (images.Length > 0 && parse.GetValue(random)) throw new CliException("--random and --input exclude each other.");
            if (images.Length > 0 && sizeGiven) throw new CliException("--size sizes the random inputs; --input images take the size of the model's preprocessing.");
            var imported = OnnxImporter.Import(path, limits.Get(parse));
            if (sizeGiven) CheckSizeApplies(imported, sizeValue!.Value);
            // Refuse a batch whose plan does not fit before allocating anything for it.
            long planned = Verifier.PlannedBytes(imported, Verifier.InputShapes(imported, n, sizeValue), parse.GetValue(perNode));
            if (planned > Verifier.MemoryBudgetBytes)
                throw new CliException($"--batch {n} is too large for {Path.GetFileName(path)}: verifying it plans "
                    + (planned == long.MaxValue ? "more memory than can be counted" : $"{planned / (double)(1L << 30):F1} GiB")
                    + $", above the budget of {Verifier.MemoryBudgetBytes >> 30} GiB; use a smaller --batch"
                    + (parse.GetValue(perNode) ? " (--per-node keeps every value)." : "."));
            Tensor[] feed = images.Length > 0
                ? [InputConvention.For(imported, parse.GetValue(preprocess)).Load(images, n)]
                : Verifier.RandomInputs(imported, n, parse.GetValue(seed), sizeValue);
            var report = Verifier.Verify(imported, feed, parse.GetValue(perNode));
            if (parse.GetValue(json)) Console.WriteLine(ToJson(report));
            else Print(report);
            return report.WithinTolerance ? 0 : 1;
        });
        return cmd;
    }

    /// <summary>Refuses --size for a model whose inputs have no dynamic axis after the batch (their sizes are fixed).</summary>
    static void CheckSizeApplies(ImportedModel model, int size)
    {
        if (!model.Inputs.Any(i => i.Dims.Skip(1).Any(d => d <= 0)))
            throw new CliException($"--size {size}: the inputs of {Path.GetFileName(model.File)} have fixed sizes ("
                + string.Join(", ", model.Inputs.Select(i => $"{i.Name} [{string.Join(",", i.Dims.Select(d => d > 0 ? d.ToString() : "?"))}]")) + "); there is no dynamic axis to size.");
    }

    static void Print(VerifyReport r)
    {
        Console.WriteLine($"{r.Model}  batch {r.Batch}  rule |native − ort| ≤ {r.Tolerance.Atol:g} + {r.Tolerance.Rtol:g}·|ort|");
        foreach (var o in r.Outputs)
            Console.WriteLine($"  {o.Name,-24} {Shapes.Format(o.Shape),-18} max_abs {TransferKit.FineTune.Reporting.Numbers.Fixed(o.MaxAbs, 4)}  max_rel {TransferKit.FineTune.Reporting.Numbers.Fixed(o.MaxRel, 4)}  {(o.WithinTolerance ? "ok" : "OUTSIDE TOLERANCE")}");
        if (r.NodesCompared > 0)
            Console.WriteLine(r.FirstDivergentNode is { } d
                ? $"  first divergent node: {d.Node} ({d.OpType}) value '{d.Value}' max_abs {TransferKit.FineTune.Reporting.Numbers.Fixed(d.MaxAbs, 4)} max_rel {TransferKit.FineTune.Reporting.Numbers.Fixed(d.MaxRel, 4)}"
                : $"  all {r.NodesCompared} intermediate values within tolerance, each node fed ONNX Runtime's inputs ({r.Widened} reduction outputs within it only with the rounding allowance"
                  + (r.ClosestNode is { } c ? $"; closest to its bound: {c.Node} ({c.OpType}) at {TransferKit.FineTune.Reporting.Numbers.Fixed(c.Ratio, 3)} of it)" : ")"));
        foreach (var w in r.WidenedNodes ?? [])
            Console.WriteLine($"    within the rounding allowance: {w.Node} ({w.OpType}) max_abs {TransferKit.FineTune.Reporting.Numbers.Fixed(w.MaxAbs, 4)}, allowance up to {TransferKit.FineTune.Reporting.Numbers.Fixed(w.MaxAllowance, 4)}, at {TransferKit.FineTune.Reporting.Numbers.Fixed(w.Ratio, 3)} of its bound");
        Console.WriteLine($"  native {r.NativeMilliseconds:F1} ms, onnxruntime {r.OrtMilliseconds:F1} ms");
        Console.WriteLine(r.WithinTolerance ? "PASS: within tolerance" : "FAIL: outside tolerance");
    }

    static void Print(string model, int batch, string lossName, GradientCheckReport r)
    {
        Console.WriteLine($"{Path.GetFileName(model)}  gradient check  batch {batch}  {lossName} loss {r.Loss:F4}  ε {r.Epsilon:g} (relative)  {r.Parameters.Count} of {r.TrainableParameters} trainable tensors  {r.HeldSwitches} switching nodes held  rule |a − n| / max(|a|, |n|, floor) ≤ {r.Tolerance:g}");
        Console.WriteLine($"  {"parameter",-32} {"shape",-18} {"analytic",14} {"numeric",14} {"rel error",10} {"worst",10}");
        foreach (var p in r.Parameters)
            Console.WriteLine($"  {p.Name,-32} {Shapes.Format(p.Shape),-18} {p.Analytic,14:E6} {p.Numeric,14:E6} {p.RelativeError,10:E2} {p.MaxRelativeError,10:E2}  {(p.Passed ? "ok" : "OUTSIDE TOLERANCE")}");
        Console.WriteLine($"  {r.Forwards} forward passes, {r.Seconds:F1}s");
        Console.WriteLine($"{(r.Passed ? "PASS" : "FAIL")}: max relative error {TransferKit.FineTune.Reporting.Numbers.Fixed(r.MaxRelativeError)}");
    }

    static string ToJson(string model, int batch, string lossName, GradientCheckReport r) => JsonSerializer.Serialize(new
    {
        model,
        mode = "grad",
        batch,
        loss_function = lossName,
        within_tolerance = r.Passed,
        max_rel = r.MaxRelativeError,
        tolerance = r.Tolerance,
        epsilon = r.Epsilon,
        loss = r.Loss,
        trainable_tensors = r.TrainableParameters,
        held_switches = r.HeldSwitches,
        forwards = r.Forwards,
        seconds = r.Seconds,
        parameters = r.Parameters.Select(p => new
        {
            name = p.Name, shape = p.Shape, analytic = p.Analytic, numeric = p.Numeric, relative_error = p.RelativeError,
            max_relative_error = p.MaxRelativeError, directions = p.Directions, floor = p.Floor, passed = p.Passed,
        }),
    }, JsonOptions);

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
        first_divergent_node = r.FirstDivergentNode is { } d ? new { node = d.Node, op_type = d.OpType, value = d.Value, max_abs = d.MaxAbs, max_rel = d.MaxRel, max_allowance = d.MaxAllowance, ratio = d.Ratio } : null,
        nodes_compared = r.NodesCompared,
        nodes_widened = r.Widened,
        widened_nodes = (r.WidenedNodes ?? []).Select(w => new { node = w.Node, op_type = w.OpType, value = w.Value, max_abs = w.MaxAbs, max_rel = w.MaxRel, max_allowance = w.MaxAllowance, ratio = w.Ratio }),
        closest_node = r.ClosestNode is { } c ? new { node = c.Node, op_type = c.OpType, value = c.Value, max_abs = c.MaxAbs, max_rel = c.MaxRel, max_allowance = c.MaxAllowance, ratio = c.Ratio } : null,
        native_ms = r.NativeMilliseconds,
        ort_ms = r.OrtMilliseconds,
    }, JsonOptions);

    /// <summary>How verify's JSON is written (NaN and ∞ as named literals); also that of <c>--grad --per-node</c>.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
