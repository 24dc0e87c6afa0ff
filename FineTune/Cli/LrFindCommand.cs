using System.CommandLine;
using System.Text.Json;
using TransferKit.FineTune.Reporting;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Optim;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// <c>transferkit lr-find</c>: the learning-rate range test on the model set up as <c>finetune</c> would train it;
/// prints the suggested learning rate and writes the curve (CSV, optionally a PNG plot).
/// </summary>
public static class LrFindCommand
{
    public static Command Create()
    {
        var modelArgument = ModelOption.CreateArgument();
        var model = ModelOption.Create();
        var data = new Option<string>("--data") { Description = "Training data, as for finetune (image folders or MNIST-style IDX files).", Required = true };
        var val = new Option<string?>("--val") { Description = "A separate validation folder (then all of --data trains)." };
        var valSplit = new Option<double>("--val-split") { Description = "Validation fraction held out of --data, as in finetune (those images are not swept on).", DefaultValueFactory = _ => 0.2 };
        var recipe = new Option<string>("--recipe") { Description = "head (body frozen) or full (everything trains).", DefaultValueFactory = _ => "head" };
        var batch = new Option<int>("--batch") { Description = "Images per step of the sweep.", DefaultValueFactory = _ => 16 }.Batch();
        var steps = new Option<int>("--steps") { Description = "Batches in the sweep (it stops earlier when the loss explodes).", DefaultValueFactory = _ => 100 };
        var startLr = new Option<double>("--start-lr") { Description = "First learning rate of the sweep.", DefaultValueFactory = _ => 1e-7 };
        var endLr = new Option<double>("--end-lr") { Description = "Last learning rate of the sweep.", DefaultValueFactory = _ => 10 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9, Nesterov), adam, adamw, rmsprop, adagrad.", DefaultValueFactory = _ => "sgd" };
        var output = new Option<string?>("--out") { Description = "Write the curve here as CSV (step, lr, loss, smoothed_loss)." };
        var plot = new Option<string?>("--plot") { Description = "Draw the curve into this PNG (log lr against loss, the suggestion marked)." };
        var freeze = new Option<string[]>("--freeze") { Description = "Freeze parameters or nodes matching these globs; ..NODE freezes everything up to and including NODE.", AllowMultipleArgumentsPerToken = true };
        var unfreeze = new Option<string[]>("--unfreeze") { Description = "Unfreeze parameters or nodes matching these globs.", AllowMultipleArgumentsPerToken = true };
        var bn = new Option<BatchNormPolicy>("--bn") { Description = "Batch norm in frozen layers: eval, affine, train.", DefaultValueFactory = _ => BatchNormPolicy.Eval };
        var head = new Option<string?>("--head") { Description = "The classifier node to replace (found automatically by default)." };
        var classes = new Option<string>("--classes") { Description = "auto (the dataset's classes) or a number.", DefaultValueFactory = _ => "auto" };
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset (default: from the model catalogue)." };
        var augment = new Option<string>("--augment") { Description = "none, light, default, strong, a transform spec, or auto: light for the head recipe (frozen body), default when the body trains.", DefaultValueFactory = _ => JobSetup.AutoAugment };
        var headInit = new Option<Heads.HeadInitializer>("--head-init") { Description = "New head's weights: kaiming, xavier, or normal (N(0, 0.01²)).", DefaultValueFactory = _ => Heads.HeadInitializer.Normal };
        var labelSmoothing = new Option<float>("--label-smoothing") { Description = "Cross-entropy label smoothing (0–1).", DefaultValueFactory = _ => 0f };
        var cacheViews = new Option<int>("--cache-views") { Description = "Most augmented views per image in the frozen-prefix feature cache (0: no cache); the sweep builds no more than it uses.", DefaultValueFactory = _ => 8 };
        var limitTrain = new Option<int>("--limit-train") { Description = "Use at most N training images (seeded, class-balanced subset; 0: all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Seed of the shuffles, augmentation and head initialisation.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => 0 }.Threads();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (progress goes to stderr)." };
        var cmd = new Command("lr-find", "Sweep the learning rate exponentially over a few hundred batches (fastai's lr_find) and suggest one for finetune.")
        {
            modelArgument, model, data, val, valSplit, recipe, batch, steps, startLr, endLr, optimizer, output, plot, freeze, unfreeze, bn, head, classes,
            preprocess, augment, headInit, labelSmoothing, cacheViews, limitTrain, seed, threads, json,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(batch) < 1) throw new CliException("--batch must be at least 1.");
            var options = new FineTuneOptions
            {
                Model = ModelOption.Resolve(parse.GetValue(modelArgument), parse.GetValue(model)), Data = parse.GetValue(data)!, Val = parse.GetValue(val), ValSplit = parse.GetValue(valSplit),
                Out = Path.GetDirectoryName(Path.GetFullPath(parse.GetValue(output) ?? ".")) ?? ".",
                Recipe = parse.GetValue(recipe)!, Batch = parse.GetValue(batch), Optimizer = parse.GetValue(optimizer)!,
                Freeze = parse.GetValue(freeze) ?? [], Unfreeze = parse.GetValue(unfreeze) ?? [], Bn = parse.GetValue(bn), Head = parse.GetValue(head),
                Classes = parse.GetValue(classes)!, Preprocess = parse.GetValue(preprocess), Augment = parse.GetValue(augment)!, HeadInit = parse.GetValue(headInit),
                LabelSmoothing = parse.GetValue(labelSmoothing), CacheViews = parse.GetValue(cacheViews), LimitTrain = parse.GetValue(limitTrain),
                Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
            };
            OptionLimits.Check(options);
            var finder = new LrFinder { StartLr = parse.GetValue(startLr), EndLr = parse.GetValue(endLr), Steps = parse.GetValue(steps) };
            bool asJson = parse.GetValue(json);
            var log = asJson ? Console.Error : Console.Out;
            var result = new LrFindJob(options, finder, log).Run();
            if (result.StopReason != null) log.WriteLine($"stopped after {result.Curve.Count} of {finder.Steps} steps: {result.StopReason}");
            if (double.IsNaN(result.SuggestedLearningRate))
                throw new ArithmeticException($"The sweep recorded {result.Curve.Count} step(s), too few to suggest a learning rate; lower --start-lr or raise --steps.");

            var csv = parse.GetValue(output);
            if (csv != null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csv))!);
                FineTuneJob.WriteAtomically(csv, result.ToCsv());
            }
            var png = parse.GetValue(plot);
            if (png != null) SavePlot(result, png);

            if (asJson)
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    suggested_lr = result.SuggestedLearningRate,
                    min_loss_lr = result.MinimumLearningRate,
                    steps_run = result.Curve.Count,
                    stopped_early = result.StoppedEarly,
                    stop_reason = result.StopReason,
                    csv = csv == null ? null : Path.GetFullPath(csv),
                    plot = png == null ? null : Path.GetFullPath(png),
                }, new JsonSerializerOptions { WriteIndented = true }));
            else
            {
                Console.WriteLine($"suggested learning rate {TransferKit.FineTune.Reporting.Numbers.Fixed(result.SuggestedLearningRate)} (steepest descent of the smoothed loss); lowest smoothed loss at {TransferKit.FineTune.Reporting.Numbers.Fixed(result.MinimumLearningRate)}");
                if (csv != null) Console.WriteLine($"curve: {csv}");
                if (png != null) Console.WriteLine($"plot: {png}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Loss and smoothed loss against log lr, the suggestion marked; the y axis stops at twice the first smoothed loss so the explosion does not flatten the rest.</summary>
    static void SavePlot(LrFinderResult result, string path)
    {
        var lr = result.Curve.Select(p => p.LearningRate).ToArray();
        var smoothed = result.Curve.Select(p => p.SmoothedLoss).ToArray();
        double top = Math.Min(result.Curve.Max(p => p.Loss), 2 * smoothed[0]);
        LinePlot.Save(path,
            [new PlotSeries("loss", lr, result.Curve.Select(p => p.Loss).ToArray(), 0xA0A0C8), new PlotSeries("smoothed loss", lr, smoothed, 0x1F4FB4)],
            "learning-rate range test", "learning rate", "loss", logX: true, yRange: (Math.Min(0, smoothed.Min()), top),
            marker: (result.SuggestedLearningRate, $"suggested {TransferKit.FineTune.Reporting.Numbers.Fixed(result.SuggestedLearningRate)}"));
    }
}
