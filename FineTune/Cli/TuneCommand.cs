using System.CommandLine;
using Spectre.Console;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;
using TransferKit.FineTune.Tuning;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// <c>transferkit tune</c>: hyperparameter search over fine-tune jobs (learning rate, weight decay, batch size,
/// augmentation level, freeze depth) by grid, random or TPE sampling, with early stopping of poor trials; prints the
/// table of trials and writes trials.csv and best.json (a <c>finetune --config</c> file).
/// </summary>
public static class TuneCommand
{
    static readonly FineTuneOptions Defaults = new() { Model = "", Data = "", Out = "" };

    public static Command Create()
    {
        var modelArgument = ModelOption.CreateArgument();
        var model = ModelOption.Create();
        var data = new Option<string>("--data") { Description = "Training data, as for finetune (image folder or MNIST-style IDX folder).", Required = true };
        var output = new Option<string>("--out") { Description = "Tune folder: trial-000/ … (one fine-tune run each), trials.csv, best.json.", Required = true };
        var trials = new Option<int?>("--trials") { Description = "Number of trials (default: the whole grid for --sampler grid, else 20)." };
        var sampler = new Option<string>("--sampler") { Description = "grid, random, or tpe (tree-structured Parzen estimator after random start-up trials).", DefaultValueFactory = _ => "tpe" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per trial (fewer when a trial is stopped early).", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampler and of every trial's training.", DefaultValueFactory = _ => 0 };
        var lrRange = new Option<string?>("--lr-range") { Description = "Learning rate LOW:HIGH, log-uniform (default 1e-4:1e-1), or one value." };
        var wdRange = new Option<string?>("--weight-decay-range") { Description = "Weight decay LOW:HIGH, log-uniform (default 1e-6:1e-2), or one value (0 allowed)." };
        var batchSizes = new Option<string?>("--batch-sizes") { Description = "Batch sizes to choose from (default 16,32)." };
        var augmentLevels = new Option<string?>("--augment-levels") { Description = "Augmentation levels to choose from: none, light, default, strong (default none,light,default)." };
        var headDropouts = new Option<string?>("--head-dropouts") { Description = "Also search the dropout ratio in front of the head over these values (e.g. 0,0.2,0.5; default: not searched)." };
        var freezeDepths = new Option<string?>("--freeze-depths") { Description = "Freeze depths to choose from: k = head plus the last k weighted layers of the body trainable (0: head only), all (recipe full), two-phase (default 0,1,2,all)." };
        var earlyStop = new Option<string>("--early-stop") { Description = "Stop poor trials early: median (below the median of earlier trials at the same epoch), halving (successive halving, rungs at epochs 1, 3, 9, …), or none.", DefaultValueFactory = _ => "median" };
        var space = new Option<string?>("--space") { Description = "A JSON search space file, e.g. {\"lr\": \"1e-4:1e-1\", \"batch\": [16, 32], \"freeze-depth\": [0, \"all\"]}; flags given on the command line win." };
        var gridPoints = new Option<int>("--grid-points") { Description = "Log-spaced values per learning-rate or weight-decay range in a grid search.", DefaultValueFactory = _ => 3 };
        // Settings every trial shares, as in finetune.
        var val = new Option<string?>("--val") { Description = "A separate validation folder." };
        var valSplit = new Option<double>("--val-split") { Description = "Validation fraction when the data has no val/ folder.", DefaultValueFactory = _ => Defaults.ValSplit };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam, adamw, rmsprop, adagrad.", DefaultValueFactory = _ => Defaults.Optimizer };
        var schedule = new Option<string>("--schedule") { Description = "constant, step, cosine, onecycle, exponential, warmup-<schedule>.", DefaultValueFactory = _ => Defaults.Schedule };
        var bn = new Option<BatchNormPolicy>("--bn") { Description = "Batch norm in frozen layers: eval, affine, train.", DefaultValueFactory = _ => Defaults.Bn };
        var head = new Option<string?>("--head") { Description = "The classifier node to replace (found automatically by default)." };
        var classes = new Option<string>("--classes") { Description = "auto (the dataset's classes) or a number.", DefaultValueFactory = _ => Defaults.Classes };
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset (default: from the model catalogue)." };
        var threads = new Option<int>("--threads") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => Defaults.Threads }.Threads();
        var cacheViews = new Option<int>("--cache-views") { Description = "Augmented views per image in the frozen-prefix feature cache (0: no cache).", DefaultValueFactory = _ => Defaults.CacheViews };
        var headInit = new Option<Heads.HeadInitializer>("--head-init") { Description = "New head's weights: kaiming, xavier, or normal.", DefaultValueFactory = _ => Defaults.HeadInit };
        var limitTrain = new Option<int>("--limit-train") { Description = "Use at most N training images (seeded, class-balanced subset; 0: all).", DefaultValueFactory = _ => 0 };
        var limitVal = new Option<int>("--limit-val") { Description = "Use at most N validation images (0: all).", DefaultValueFactory = _ => 0 };
        var labelSmoothing = new Option<float>("--label-smoothing") { Description = "Cross-entropy label smoothing (0–1).", DefaultValueFactory = _ => 0f };
        var mixup = new Option<float>("--mixup") { Description = "Mixup on training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 0.2 (0: off). Mixing needs the images, so it turns the feature cache off.", DefaultValueFactory = _ => 0f };
        var cutmix = new Option<float>("--cutmix") { Description = "CutMix on training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 1.0 (0: off); with --mixup too, each batch uses one of them at even odds.", DefaultValueFactory = _ => 0f };
        var cmd = new Command("tune", "Search fine-tune hyperparameters (learning rate, weight decay, batch size, augmentation, freeze depth) by grid, random or TPE sampling, stopping poor trials early; writes trials.csv and best.json for finetune --config.")
        {
            modelArgument, model, data, output, trials, sampler, epochs, seed, lrRange, wdRange, batchSizes, augmentLevels, freezeDepths, headDropouts, earlyStop, space, gridPoints,
            val, valSplit, optimizer, schedule, bn, head, classes, preprocess, threads, cacheViews, headInit, limitTrain, limitVal, labelSmoothing, mixup, cutmix,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(epochs) < 1) throw new CliException("--epochs must be at least 1.");
            var searchSpace = FineTuneSpace.Default;
            if (parse.GetValue(space) is { } file) searchSpace = FineTuneSpace.ReadFile(file, searchSpace);
            if (parse.GetValue(lrRange) is { } lr) searchSpace = searchSpace.With(FineTuneSpace.ParseRange(FineTuneSpace.Lr, lr));
            if (parse.GetValue(wdRange) is { } wd) searchSpace = searchSpace.With(FineTuneSpace.ParseRange(FineTuneSpace.WeightDecay, wd));
            if (parse.GetValue(batchSizes) is { } bs) searchSpace = searchSpace.With(FineTuneSpace.ParseList(FineTuneSpace.Batch, bs));
            if (parse.GetValue(augmentLevels) is { } al) searchSpace = searchSpace.With(FineTuneSpace.ParseList(FineTuneSpace.Augment, al));
            if (parse.GetValue(freezeDepths) is { } fd) searchSpace = searchSpace.With(FineTuneSpace.ParseList(FineTuneSpace.Depth, fd));
            if (parse.GetValue(headDropouts) is { } hd) searchSpace = searchSpace.With(FineTuneSpace.ParseList(FineTuneSpace.HeadDropout, hd));

            int seedValue = parse.GetValue(seed);
            int? trialCount = parse.GetValue(trials);
            if (trialCount is < 1) throw new CliException("--trials must be at least 1.");
            ISampler chosen;
            switch (parse.GetValue(sampler)!.ToLowerInvariant())
            {
                case "grid":
                    var grid = new GridSampler(searchSpace, parse.GetValue(gridPoints) is var p and >= 1 ? p : throw new CliException("--grid-points must be at least 1."));
                    if (trialCount is { } t && t < grid.Size) Console.WriteLine($"note: the grid has {grid.Size} points; running the first {t}.");
                    trialCount ??= (int)Math.Min(grid.Size, int.MaxValue);
                    chosen = grid;
                    break;
                case "random":
                    chosen = new RandomSampler(searchSpace, seedValue);
                    break;
                case "tpe":
                    chosen = new TpeSampler(searchSpace, seedValue, startupTrials: Math.Clamp((trialCount ?? 20) / 3, 2, 10));
                    break;
                default: throw new CliException($"Unknown sampler '{parse.GetValue(sampler)}' (grid, random, tpe).");
            }
            ITrialPruner? pruner = parse.GetValue(earlyStop)!.ToLowerInvariant() switch
            {
                "median" => new MedianStoppingRule(),
                "halving" => new SuccessiveHalvingRule(),
                "none" => null,
                var other => throw new CliException($"Unknown early-stop rule '{other}' (median, halving, none)."),
            };

            var baseOptions = Defaults with
            {
                Model = ModelOption.Resolve(parse.GetValue(modelArgument), parse.GetValue(model)), Data = parse.GetValue(data)!, Out = parse.GetValue(output)!,
                Epochs = parse.GetValue(epochs), Seed = seedValue,
                Val = parse.GetValue(val), ValSplit = parse.GetValue(valSplit), Optimizer = parse.GetValue(optimizer)!, Schedule = parse.GetValue(schedule)!,
                Bn = parse.GetValue(bn), Head = parse.GetValue(head), Classes = parse.GetValue(classes)!, Preprocess = parse.GetValue(preprocess),
                Threads = parse.GetValue(threads), CacheViews = parse.GetValue(cacheViews), HeadInit = parse.GetValue(headInit),
                LimitTrain = parse.GetValue(limitTrain), LimitVal = parse.GetValue(limitVal), LabelSmoothing = parse.GetValue(labelSmoothing), Mixup = parse.GetValue(mixup), Cutmix = parse.GetValue(cutmix),
            };
            OptionLimits.Check(baseOptions);
            var result = new Tuner(baseOptions, searchSpace, chosen, pruner, baseOptions.Out, trialCount ?? 20, Console.Out).Run();

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            // Redirected output has no terminal width to fit; keep rows on one line.
            if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 160);
            console.Write(TrialTable.Render(searchSpace, result.Trials, result.Best));
            Console.WriteLine($"trials: {result.TrialsCsv}");
            if (result.Best == null)
                throw new InvalidOperationException($"Every trial failed (see {Path.Combine(Path.GetFullPath(baseOptions.Out), "trial-*", "train.log")}); no best.json was written.");
            Console.WriteLine($"best: trial {result.Best.Number}, validation accuracy {result.Best.ValAccuracy:P2} ({result.Best.Configuration.Describe(searchSpace)}); " +
                              $"{result.BestConfig} — run it with: transferkit finetune --config {result.BestConfig}");
            return 0;
        });
        return cmd;
    }
}
