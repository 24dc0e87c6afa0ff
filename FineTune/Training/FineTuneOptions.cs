using TransferKit.FineTune.Freezing;

namespace TransferKit.FineTune.Training;

/// <summary>Everything a fine-tune run is asked to do (the CLI flags and the JSON config file map onto this).</summary>
public sealed record FineTuneOptions
{
    public required string Model { get; init; }
    public required string Data { get; init; }
    public string? Val { get; init; }
    public double ValSplit { get; init; } = 0.2;
    public required string Out { get; init; }
    public int Epochs { get; init; } = 10;
    public int Batch { get; init; } = 16;
    /// <summary>Learning rate of the head (the body's groups scale from it in two-phase).</summary>
    public float Lr { get; init; } = 1e-3f;
    public string Optimizer { get; init; } = "sgd";
    public string Schedule { get; init; } = "cosine";
    public float WeightDecay { get; init; } = 1e-4f;
    public string[] Freeze { get; init; } = [];
    public string[] Unfreeze { get; init; } = [];
    public BatchNormPolicy Bn { get; init; } = BatchNormPolicy.Eval;
    public string? Head { get; init; }
    /// <summary>"auto" (the dataset's classes) or a number.</summary>
    public string Classes { get; init; } = "auto";
    public string? Preprocess { get; init; }
    /// <summary>none, light, default, strong, a transform spec, or auto (<see cref="JobSetup.AugmentLevelFor"/>).</summary>
    public string Augment { get; init; } = JobSetup.AutoAugment;
    /// <summary>head, full or two-phase.</summary>
    public string Recipe { get; init; } = "head";
    public int Seed { get; init; } = 0;
    public int Threads { get; init; } = 0;
    /// <summary>Epochs without an improvement of <see cref="EarlyStopMonitor"/> before the phase ends (0: off).</summary>
    public int EarlyStop { get; init; } = 0;
    /// <summary>
    /// The metric that picks the best epoch (best.tkc, tuned.onnx) and that early stopping watches: val_accuracy
    /// (default; ties go to the lower validation loss), val_loss, train_accuracy or train_loss.
    /// </summary>
    public string EarlyStopMonitor { get; init; } = "val_accuracy";
    /// <summary>auto (higher accuracy, lower loss), min or max.</summary>
    public string EarlyStopMode { get; init; } = "auto";
    /// <summary>The least change of the monitored metric that counts as an improvement (Keras' <c>min_delta</c>).</summary>
    public double MinDelta { get; init; } = 0;
    /// <summary>Augmented views per training image kept by the frozen-prefix feature cache (0 turns the cache off).</summary>
    public int CacheViews { get; init; } = 8;
    /// <summary>Memory the feature cache may hold, in MB; features beyond it spill to RUN_DIR/cache (0: all on disk).</summary>
    public int CacheBudgetMb { get; init; } = 4096;
    /// <summary>Store cached features as half precision (half the memory and disk; values rounded to 11 significant bits).</summary>
    public bool CacheFp16 { get; init; }
    public float LabelSmoothing { get; init; } = 0;
    /// <summary>Mixup's Beta(α, α) concentration on training batches (timm's <c>--mixup</c>; 0: off). Mixing needs the images, so it turns the feature cache off.</summary>
    public float Mixup { get; init; } = 0;
    /// <summary>CutMix's Beta(α, α) concentration (timm's <c>--cutmix</c>; 0: off); with mixup on too, each batch uses one of them.</summary>
    public float Cutmix { get; init; } = 0;
    /// <summary>Use at most this many training images (a seeded, class-balanced subset; 0: all).</summary>
    public int LimitTrain { get; init; } = 0;
    /// <summary>Use at most this many validation images (0: all).</summary>
    public int LimitVal { get; init; } = 0;
    /// <summary>Training-time dropout ratio of the model's Dropout right in front of the head (null: the model's own).</summary>
    public float? HeadDropout { get; init; }
    /// <summary>How the new head's weights are drawn.</summary>
    public Heads.HeadInitializer HeadInit { get; init; } = Heads.HeadInitializer.Normal;
    /// <summary>
    /// A run folder to continue from its last checkpoint. The run's saved options are used; the other properties here
    /// must equal them (<see cref="Checkpoints.ResumeOptions"/> lists what differs), except <see cref="Out"/>, which
    /// becomes this folder, and <see cref="Threads"/>, which may change.
    /// </summary>
    public string? Resume { get; init; }
    /// <summary>Fold batch norms into the Conv/Gemm before them in tuned.onnx.</summary>
    public bool FoldBn { get; init; }
    /// <summary>Put the input normalisation inside tuned.onnx, which then takes raw RGB 0–255 NCHW float input.</summary>
    public bool BakePreprocess { get; init; }
}
