using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Optim.Schedules;

namespace TransferKit.FineTune.Training;

/// <summary>Builds optimizers and schedules from their command-line names.</summary>
public static class OptimizerFactory
{
    public static Optimizer Create(string name, IEnumerable<ParameterGroup> groups) => name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(groups, momentum: 0.9f, nesterov: true),
        "adam" => new Adam(groups),
        "adamw" => new AdamW(groups),
        "rmsprop" => new RmsProp(groups, momentum: 0.9f),
        "adagrad" => new Adagrad(groups),
        _ => throw new ArgumentException($"Unknown optimizer '{name}' (sgd, adam, adamw, rmsprop, adagrad)."),
    };

    /// <summary>Schedules by name: constant, step, cosine, onecycle, exponential; "warmup-" in front adds one epoch of linear warm-up.</summary>
    public static Schedule CreateSchedule(string name, int epochs)
    {
        var key = name.ToLowerInvariant();
        if (key.StartsWith("warmup-", StringComparison.Ordinal)) return new WarmupSchedule(1, CreateSchedule(key[7..], Math.Max(1, epochs - 1)));
        return key switch
        {
            "constant" or "none" => new ConstantSchedule(),
            "step" => new StepSchedule(Math.Max(1, epochs / 3), 0.1),
            "cosine" => new CosineWarmRestartsSchedule(epochs, 1, 0.01),
            "onecycle" => new OneCycleSchedule(epochs),
            "exponential" => new ExponentialSchedule(0.9),
            _ => throw new ArgumentException($"Unknown schedule '{name}' (constant, step, cosine, onecycle, exponential, warmup-<any>)."),
        };
    }
}
