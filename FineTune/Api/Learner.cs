using System.Globalization;
using TransferKit.FineTune.Callbacks;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Evaluation;
using TransferKit.FineTune.Inference;
using TransferKit.FineTune.Training;

namespace TransferKit;

/// <summary>
/// Fine-tunes a pretrained <see cref="OnnxModel"/> on an <see cref="ImageFolder"/> (fastai's <c>Learner</c>): a new
/// head for the data's classes, the body frozen (<see cref="Freeze"/>) or not (<see cref="Unfreeze"/>),
/// <see cref="Fit"/> with callbacks, <see cref="Evaluate"/> and <see cref="Export"/>. It is the <c>finetune</c>
/// command's engine (<see cref="FineTuneJob"/>) run with the options <see cref="ToOptions"/> gives, so a fit writes
/// what the command writes into <see cref="RunDirectory"/> — tuned.onnx checked against ONNX Runtime, metrics.csv,
/// summary.json, report.html, checkpoints/ — and a stopped fit can be continued with <see cref="Resume"/> or
/// <c>transferkit finetune --resume</c>.
/// </summary>
/// <param name="model">The pretrained model.</param>
/// <param name="data">The images and their training augmentation.</param>
/// <param name="runDirectory">The run folder (made when missing; a fit replaces an earlier run's files there).</param>
/// <param name="numClasses">Outputs of the new head (default: the data's classes; more leaves room for classes to come).</param>
public sealed class Learner(OnnxModel model, ImageFolder data, string runDirectory, int? numClasses = null)
{
    /// <summary>The pretrained model.</summary>
    public OnnxModel Model { get; } = model;

    /// <summary>The data.</summary>
    public ImageFolder Data { get; } = data;

    /// <summary>The job's own defaults, which the learner's settings start from (one place for them).</summary>
    static readonly FineTuneOptions Defaults = new() { Model = "", Data = "", Out = "" };

    /// <summary>The run folder.</summary>
    public string RunDirectory { get; } = Path.GetFullPath(runDirectory);

    /// <summary>Outputs of the new head, or null for the data's class count.</summary>
    public int? NumClasses { get; } = numClasses;

    /// <summary>head (the body frozen: <see cref="Freeze"/>, the default), full (<see cref="Unfreeze"/>) or two-phase (<see cref="FineTune"/>).</summary>
    public string Recipe { get; private set; } = "head";

    /// <summary>Epochs of a <see cref="Fit"/> that names none.</summary>
    public int Epochs { get; set; } = Defaults.Epochs;

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; set; } = Defaults.Batch;

    /// <summary>The head's learning rate (the body's is a tenth of it in two-phase).</summary>
    public float LearningRate { get; set; } = Defaults.Lr;

    /// <summary>sgd (Nesterov momentum 0.9), adam, adamw, rmsprop or adagrad.</summary>
    public string Optimizer { get; set; } = Defaults.Optimizer;

    /// <summary>constant, step, cosine, onecycle, exponential or warmup-&lt;schedule&gt;.</summary>
    public string Schedule { get; set; } = Defaults.Schedule;

    /// <summary>Weight decay of every trained parameter.</summary>
    public float WeightDecay { get; set; } = Defaults.WeightDecay;

    /// <summary>Seed of the validation split (when the data has no val/ folder), shuffles, augmentation, dropout and the head's initial weights (default: the data's seed).</summary>
    public int Seed { get; set; } = data.Seed;

    /// <summary>Threads (0: all cores).</summary>
    public int Threads { get; set; }

    /// <summary>Augmented views per training image in the frozen-prefix feature cache (0: no cache).</summary>
    public int CacheViews { get; set; } = Defaults.CacheViews;

    /// <summary>Training-time ratio of the model's Dropout in front of the head (null: the model's own).</summary>
    public float? HeadDropout { get; set; }

    /// <summary>Cross-entropy label smoothing, 0–1.</summary>
    public float LabelSmoothing { get; set; }

    /// <summary>The metric that picks the best epoch (the weights exported): val_accuracy (default), val_loss, train_accuracy, train_loss.</summary>
    public string Monitor { get; set; } = Defaults.EarlyStopMonitor;

    /// <summary>Where the run's log goes (default: the console).</summary>
    public TextWriter Log { get; set; } = Console.Out;

    /// <summary>The latest fit's result (null before one).</summary>
    public FineTuneSummary? LastFit { get; private set; }

    /// <summary>Trains only the new head; everything before it stays as pretrained (the default).</summary>
    public void Freeze() => Recipe = "head";

    /// <summary>Trains every layer.</summary>
    public void Unfreeze() => Recipe = "full";

    /// <summary>
    /// Trains for <paramref name="epochs"/> (default <see cref="Epochs"/>) from the pretrained weights, with
    /// <paramref name="callbacks"/> beside the run's own (best epoch, checkpoints, metrics.csv, NaN stop), then
    /// exports the best epoch to RUN_DIR/tuned.onnx after checking it against ONNX Runtime.
    /// </summary>
    public FineTuneSummary Fit(int? epochs = null, IReadOnlyList<ITrainingCallback>? callbacks = null) => Run(ToOptions(epochs ?? Epochs), callbacks);

    /// <summary>fastai's <c>fine_tune</c>: half the epochs on the head with the body frozen, then the rest on everything at a tenth of the rate.</summary>
    public FineTuneSummary FineTune(int epochs, IReadOnlyList<ITrainingCallback>? callbacks = null)
    {
        Recipe = "two-phase";
        return Fit(epochs, callbacks);
    }

    /// <summary>Continues the fit in <see cref="RunDirectory"/> that stopped (or was killed) from its last checkpoint, with the options it was started with.</summary>
    public FineTuneSummary Resume(IReadOnlyList<ITrainingCallback>? callbacks = null)
    {
        var saved = ResumeOptions.Load(RunDirectory);
        return Run(saved with { Threads = Threads > 0 ? Threads : saved.Threads }, callbacks);
    }

    FineTuneSummary Run(FineTuneOptions options, IReadOnlyList<ITrainingCallback>? callbacks)
    {
        LastFit = new FineTuneJob(options, Log) { Callbacks = callbacks ?? [] }.Run();
        return LastFit;
    }

    /// <summary>The <c>finetune</c> options this learner runs with (what <c>transferkit finetune --config</c> reads, written by <see cref="FineTuneConfigFile.Write"/>).</summary>
    public FineTuneOptions ToOptions(int epochs) => new()
    {
        Model = Model.Path, Data = Data.Path, Out = RunDirectory, ValSplit = Data.ValSplit, Augment = Data.Transforms.Spec,
        Classes = NumClasses?.ToString(CultureInfo.InvariantCulture) ?? "auto", Recipe = Recipe, Epochs = epochs, Batch = BatchSize,
        Lr = LearningRate, Optimizer = Optimizer, Schedule = Schedule, WeightDecay = WeightDecay, Seed = Seed, Threads = Threads,
        CacheViews = CacheViews, HeadDropout = HeadDropout, LabelSmoothing = LabelSmoothing, EarlyStopMonitor = Monitor,
    };

    /// <summary>The fitted model: RUN_DIR/tuned.onnx.</summary>
    /// <exception cref="InvalidOperationException">Nothing has been fitted in the run folder.</exception>
    public string TunedModel
    {
        get
        {
            var tuned = LastFit?.TunedModel ?? Path.Combine(RunDirectory, "tuned.onnx");
            return File.Exists(tuned) ? tuned : throw new InvalidOperationException($"{RunDirectory} holds no fitted model yet: call Fit first.");
        }
    }

    /// <summary>
    /// Accuracy, per-class precision/recall/F1 and the confusion matrix of the fitted model on <paramref name="folder"/>
    /// (default: the data's val/ folder), run natively on tuned.onnx as <c>transferkit evaluate</c> does.
    /// </summary>
    /// <exception cref="InvalidOperationException">No folder given and the data has no val/ folder (its validation images are a split of the training folder).</exception>
    public EvaluationResult Evaluate(string? folder = null)
    {
        var dir = folder ?? Data.ValidationFolder
            ?? throw new InvalidOperationException($"{Data.Path} has no val/ folder (its validation images are a split of it); name the folder to evaluate on.");
        using var classifier = ImageClassifier.Open(TunedModel, threads: Threads);
        return Evaluator.Run(classifier, dir, BatchSize, Threads);
    }

    /// <summary>Copies the fitted model (tuned.onnx, with its labels and preprocessing in the metadata) to <paramref name="path"/>; returns the full path.</summary>
    public string Export(string path)
    {
        var target = Path.GetFullPath(path);
        if (Path.GetDirectoryName(target) is { } dir) Directory.CreateDirectory(dir);
        if (target != TunedModel) File.Copy(TunedModel, target, overwrite: true);
        return target;
    }
}
