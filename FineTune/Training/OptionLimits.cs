using System.Globalization;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit.FineTune.Training;

/// <summary>
/// The ranges the numeric options of the CLI accept, and the check of a <see cref="FineTuneOptions"/> against them:
/// a value outside its range is refused before anything runs, with a message naming the option, instead of failing
/// later (an overflowing allocation, a negative count) or training on nonsense (a negative learning rate).
/// </summary>
public static class OptionLimits
{
    /// <summary>The most threads <c>--threads</c> accepts (0 means all cores).</summary>
    public const int MaxThreads = 1024;
    /// <summary>The largest <c>--batch</c> of a training or benchmark run.</summary>
    public const int MaxBatch = 65_536;
    /// <summary>The largest image side <c>--size</c> accepts (bench-data, augment-preview).</summary>
    public const int MaxImageSize = 8192;

    /// <summary>An <see cref="ArgumentException"/> naming the option when <paramref name="threads"/> is outside 0..<see cref="MaxThreads"/>.</summary>
    public static void CheckThreads(int threads)
    {
        if (threads is < 0 or > MaxThreads) throw new ArgumentException($"--threads {threads} is out of range: 0 (all cores) to {MaxThreads}.");
    }

    public static void CheckBatch(int batch)
    {
        if (batch is < 1 or > MaxBatch) throw new ArgumentException($"--batch {batch} is out of range: 1 to {MaxBatch}.");
    }

    /// <summary>The largest Beta concentration of mixup and CutMix (timm uses 0.1–1; above 10, λ is all but always ½).</summary>
    public const float MaxMixingAlpha = 10;

    public static void CheckSize(int size)
    {
        if (size is < 1 or > MaxImageSize) throw new ArgumentException($"--size {size} is out of range: 1 to {MaxImageSize} pixels.");
    }

    /// <summary>Every option of a fine-tune run checked against its range; the first one out of range is an <see cref="ArgumentException"/> naming it.</summary>
    public static void Check(FineTuneOptions o)
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Require(o.Epochs >= 1, $"--epochs {o.Epochs} must be at least 1.");
        CheckBatch(o.Batch);
        CheckThreads(o.Threads);
        Require(float.IsFinite(o.Lr) && o.Lr > 0, $"--lr {F(o.Lr)} must be a positive number.");
        Require(float.IsFinite(o.WeightDecay) && o.WeightDecay >= 0, $"--weight-decay {F(o.WeightDecay)} must be 0 or positive.");
        Require(float.IsFinite(o.LabelSmoothing) && o.LabelSmoothing is >= 0 and <= 1, $"--label-smoothing {F(o.LabelSmoothing)} is out of range: 0 to 1.");
        Require(float.IsFinite(o.Mixup) && o.Mixup is >= 0 and <= MaxMixingAlpha, $"--mixup {F(o.Mixup)} is out of range: 0 (off) to {MaxMixingAlpha}.");
        Require(float.IsFinite(o.Cutmix) && o.Cutmix is >= 0 and <= MaxMixingAlpha, $"--cutmix {F(o.Cutmix)} is out of range: 0 (off) to {MaxMixingAlpha}.");
        Require(o.HeadDropout is null || (float.IsFinite(o.HeadDropout.Value) && o.HeadDropout.Value is >= 0 and < 1), $"--head-dropout {F(o.HeadDropout ?? 0)} is out of range: 0 to below 1.");
        Require(double.IsFinite(o.ValSplit) && o.ValSplit is >= 0 and < 1, $"--val-split {o.ValSplit.ToString(CultureInfo.InvariantCulture)} is out of range: 0 to below 1.");
        Require(o.LimitTrain >= 0, $"--limit-train {o.LimitTrain} cannot be negative (0: all images).");
        Require(o.LimitVal >= 0, $"--limit-val {o.LimitVal} cannot be negative (0: all images).");
        Require(o.EarlyStop >= 0, $"--early-stop {o.EarlyStop} cannot be negative (0: off).");
        Callbacks.MetricMonitor.Check(o.EarlyStopMonitor, o.EarlyStopMode, o.MinDelta);
        Require(o.CacheViews >= 0, $"--cache-views {o.CacheViews} cannot be negative (0: no cache).");
        Require(o.CacheBudgetMb >= 0, $"--cache-budget-mb {o.CacheBudgetMb} cannot be negative.");
        Require(o.Classes == "auto"
                || (int.TryParse(o.Classes, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 2),
            $"--classes '{o.Classes}' must be auto or a whole number of classes (at least 2).");
        var augment = JobSetup.AugmentLevelFor(o);
        if (!AugmentLevels.IsLevel(augment))
        {
            Require(augment.Contains('('), $"--augment '{o.Augment}' is neither a level ({string.Join(", ", AugmentLevels.Names)}, auto) nor a transform spec such as 'RandomResizedCrop(224) | RandomHorizontalFlip'.");
            try { TransformPipeline.Parse(augment); }
            catch (FormatException e) { throw new ArgumentException($"--augment '{o.Augment}': {e.Message}", e); }
        }
    }

    static string F(float v) => v.ToString("G", CultureInfo.InvariantCulture);
}
