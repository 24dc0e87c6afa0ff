using System.CommandLine;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit finetune</c>: fine-tune a pretrained ONNX CNN on an image folder and export tuned.onnx.</summary>
public static class FineTuneCommand
{
    public static Command Create()
    {
        var modelArgument = ModelOption.CreateArgument();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only warnings, errors and the closing line (no set-up, progress or epoch lines); progress is plain lines, not a live bar, whenever output is not a terminal." };
        var model = ModelOption.Create();
        var data = new Option<string?>("--data") { Description = "Image folder: class subfolders, or train/ and val/ (or validation/) each with class subfolders; or a folder of MNIST-style IDX files (train-*, t10k-* for validation). Required, unless --resume or --config gives it." };
        var val = new Option<string?>("--val") { Description = "A separate validation folder." };
        var valSplit = new Option<double>("--val-split") { Description = "Validation fraction when the data has no val/ folder (seeded, stratified).", DefaultValueFactory = _ => 0.2 };
        var output = new Option<string?>("--out") { Description = "Run folder; the run writes tuned.onnx (after the ONNX Runtime check), metrics.csv, summary.json, classes.json, report.html with report/*.png, checkpoints/last.tkc and best.tkc, .lock and .lock.pid while it runs, and cache/*.features when the feature cache spills to disk. Required, unless --resume or --config gives it." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train (with two-phase: of both phases together).", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Images per training step.", DefaultValueFactory = _ => 16 }.Batch();
        var lr = new Option<float>("--lr") { Description = "Learning rate of the head.", DefaultValueFactory = _ => 1e-3f };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9, Nesterov), adam, adamw, rmsprop, adagrad.", DefaultValueFactory = _ => "sgd" };
        var schedule = new Option<string>("--schedule") { Description = "constant, step, cosine, onecycle, exponential, warmup-<schedule>.", DefaultValueFactory = _ => "cosine" };
        var weightDecay = new Option<float>("--weight-decay") { Description = "Weight decay (L2 with sgd, decoupled with adamw).", DefaultValueFactory = _ => 1e-4f };
        var freeze = new Option<string[]>("--freeze") { Description = "Freeze parameters or nodes matching these globs; ..NODE freezes everything up to and including NODE.", AllowMultipleArgumentsPerToken = true };
        var unfreeze = new Option<string[]>("--unfreeze") { Description = "Unfreeze parameters or nodes matching these globs; NODE.. unfreezes NODE and everything after it.", AllowMultipleArgumentsPerToken = true };
        var bn = new Option<BatchNormPolicy>("--bn") { Description = "Batch norm in frozen layers: eval, affine, train.", DefaultValueFactory = _ => BatchNormPolicy.Eval };
        var head = new Option<string?>("--head") { Description = "The classifier node to replace (found automatically by default)." };
        var classes = new Option<string>("--classes") { Description = "auto (the dataset's classes) or a number.", DefaultValueFactory = _ => "auto" };
        var preprocess = new Option<string?>("--preprocess") { Description = "Preprocessing preset (default: from the model catalogue)." };
        var augment = new Option<string>("--augment") { Description = "none, light, default, strong, a transform spec, or auto: light for the head recipe (frozen body), default when the body trains.", DefaultValueFactory = _ => JobSetup.AutoAugment };
        var recipe = new Option<string>("--recipe") { Description = "head (body frozen), full, or two-phase (head, then everything at lower, discriminative rates).", DefaultValueFactory = _ => "head" };
        var seed = new Option<int>("--seed") { Description = "Seed of the shuffles, augmentation, dropout, head initialisation and validation split: the same seed gives the same run.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => 0 }.Threads();
        var earlyStop = new Option<int>("--early-stop") { Description = "Stop after this many epochs without an improvement of --early-stop-monitor (0: off).", DefaultValueFactory = _ => 0 };
        var earlyStopMonitor = new Option<string>("--early-stop-monitor") { Description = "The metric early stopping watches and the best epoch (best.tkc, tuned.onnx) is chosen by: val_accuracy (ties to the lower val_loss), val_loss, train_accuracy, train_loss.", DefaultValueFactory = _ => "val_accuracy" };
        var earlyStopMode = new Option<string>("--early-stop-mode") { Description = "auto (higher accuracy, lower loss is better), min or max.", DefaultValueFactory = _ => "auto" };
        var minDelta = new Option<double>("--min-delta") { Description = "The least change of the monitored metric that counts as an improvement (≥ 0).", DefaultValueFactory = _ => 0.0 };
        var cacheViews = new Option<int>("--cache-views") { Description = "Augmented views per image in the frozen-prefix feature cache (0: no cache).", DefaultValueFactory = _ => 8 };
        var cacheBudget = new Option<int>("--cache-budget-mb") { Description = "Memory the feature cache may hold (MB); the rest spills to RUN_DIR/cache and is read from there (0: all on disk).", DefaultValueFactory = _ => 4096 };
        var cacheFp16 = new Option<bool>("--cache-fp16") { Description = "Keep cached features in half precision, in memory and on disk (half the size)." };
        var headInit = new Option<Heads.HeadInitializer>("--head-init") { Description = "New head's weights: kaiming, xavier, or normal (N(0, 0.01²)).", DefaultValueFactory = _ => Heads.HeadInitializer.Normal };
        var headDropout = new Option<float?>("--head-dropout") { Description = "Dropout ratio of the model's Dropout right in front of the head while training (0 turns it off; default: the model's own)." };
        var limitTrain = new Option<int>("--limit-train") { Description = "Use at most N training images (seeded, class-balanced subset; 0: all).", DefaultValueFactory = _ => 0 };
        var limitVal = new Option<int>("--limit-val") { Description = "Use at most N validation images (0: all).", DefaultValueFactory = _ => 0 };
        var labelSmoothing = new Option<float>("--label-smoothing") { Description = "Cross-entropy label smoothing (0–1).", DefaultValueFactory = _ => 0f };
        var mixup = new Option<float>("--mixup") { Description = "Mixup on training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 0.2 (0: off). Mixing needs the images, so it turns the feature cache off.", DefaultValueFactory = _ => 0f };
        var cutmix = new Option<float>("--cutmix") { Description = "CutMix on training batches with λ ~ Beta(ALPHA, ALPHA), e.g. 1.0 (0: off); with --mixup too, each batch uses one of them at even odds.", DefaultValueFactory = _ => 0f };
        var foldBn = new Option<bool>("--fold-bn") { Description = "Fold batch norms into the Conv/Gemm before them in tuned.onnx." };
        var bakePreprocess = new Option<bool>("--bake-preprocess") { Description = "Put the input normalisation inside tuned.onnx: it then takes raw RGB 0-255 NCHW float input." };
        var config = new Option<string?>("--config") { Description = "A JSON file with the same settings (flags given on the command line win)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint with the options it was started with (flags given again must have the saved values; --threads may change)." };
        var cmd = new Command("finetune", "Fine-tune a pretrained ONNX CNN on a folder of labelled images and export a verified tuned.onnx.")
        {
            modelArgument, model, quiet, data, val, valSplit, output, epochs, batch, lr, optimizer, schedule, weightDecay, freeze, unfreeze, bn, head, classes,
            preprocess, augment, recipe, seed, threads, earlyStop, earlyStopMonitor, earlyStopMode, minDelta, cacheViews, cacheBudget, cacheFp16, headInit, headDropout, limitTrain, limitVal, labelSmoothing, mixup, cutmix, foldBn, bakePreprocess, config, resume,
        };
        cmd.SetAction(parse =>
        {
            FineTuneOptions? fromFile = null;
            if (parse.GetValue(config) is { } cfg)
                fromFile = FineTuneConfigFile.Read(cfg);
            bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
            var resumeDir = parse.GetValue(resume);
            if (resumeDir != null)
            {
                // A resumed run's options come from its checkpoint; flags not given take the saved values.
                if (fromFile != null) throw new CliException("--config and --resume exclude each other: a resumed run uses the options saved in its checkpoint.");
                fromFile = ResumeOptions.Load(resumeDir);
                if (Given(output) && Path.GetFullPath(parse.GetValue(output)!) != Path.GetFullPath(resumeDir))
                    throw new CliException($"--out {parse.GetValue(output)} differs from --resume {resumeDir}: a resumed run writes into its own folder.");
            }
            T Pick<T>(Option<T> opt, Func<FineTuneOptions, T> file) => fromFile != null && !Given(opt) ? file(fromFile) : parse.GetValue(opt)!;
            var options = new FineTuneOptions
            {
                Model = ModelOption.Resolve(parse.GetValue(modelArgument), parse.GetValue(modelArgument) != null ? null : Pick(model, f => f.Model) ?? throw new CliException("Name a model: a .onnx file or a catalogue name, as the first argument or with --model.")),
                Data = Pick(data, f => f.Data) ?? throw new CliException("--data is required."),
                Out = Pick(output, f => f.Out) ?? throw new CliException("--out is required."),
                Val = Pick(val, f => f.Val), ValSplit = Pick(valSplit, f => f.ValSplit), Epochs = Pick(epochs, f => f.Epochs), Batch = Pick(batch, f => f.Batch),
                Lr = Pick(lr, f => f.Lr), Optimizer = Pick(optimizer, f => f.Optimizer), Schedule = Pick(schedule, f => f.Schedule),
                WeightDecay = Pick(weightDecay, f => f.WeightDecay), Freeze = Pick(freeze, f => f.Freeze) ?? [], Unfreeze = Pick(unfreeze, f => f.Unfreeze) ?? [],
                Bn = Pick(bn, f => f.Bn), Head = Pick(head, f => f.Head), Classes = Pick(classes, f => f.Classes), Preprocess = Pick(preprocess, f => f.Preprocess),
                Augment = Pick(augment, f => f.Augment), Recipe = Pick(recipe, f => f.Recipe), Seed = Pick(seed, f => f.Seed), Threads = Pick(threads, f => f.Threads),
                EarlyStop = Pick(earlyStop, f => f.EarlyStop), EarlyStopMonitor = Pick(earlyStopMonitor, f => f.EarlyStopMonitor), EarlyStopMode = Pick(earlyStopMode, f => f.EarlyStopMode), MinDelta = Pick(minDelta, f => f.MinDelta),
                CacheViews = Pick(cacheViews, f => f.CacheViews), CacheBudgetMb = Pick(cacheBudget, f => f.CacheBudgetMb), CacheFp16 = Pick(cacheFp16, f => f.CacheFp16),
                HeadInit = Pick(headInit, f => f.HeadInit), HeadDropout = Pick(headDropout, f => f.HeadDropout),
                LimitTrain = Pick(limitTrain, f => f.LimitTrain), LimitVal = Pick(limitVal, f => f.LimitVal), LabelSmoothing = Pick(labelSmoothing, f => f.LabelSmoothing),
                Mixup = Pick(mixup, f => f.Mixup), Cutmix = Pick(cutmix, f => f.Cutmix),
                Resume = resumeDir,
                FoldBn = Pick(foldBn, f => f.FoldBn), BakePreprocess = Pick(bakePreprocess, f => f.BakePreprocess),
            };
            OptionLimits.Check(options);
            TextWriter log = parse.GetValue(quiet) ? new Progress.QuietLog(Console.Error) : Console.Out;
            var summary = new FineTuneJob(options, log) { CheckpointStop = CheckpointKillSwitch.FromEnvironment() }.Run();
            Console.WriteLine($"validation accuracy {summary.ValAccuracy:P2} (epoch {summary.BestEpoch}), {summary.EpochsRun} epochs in {summary.WallSeconds:F1}s; {summary.TunedModel}");
            return 0;
        });
        return cmd;
    }
}
