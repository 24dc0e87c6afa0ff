namespace TransferKit.Toolkit.Optim.Schedules;

/// <summary>
/// A learning-rate schedule: the multiplier of each group's base learning rate at a point of training measured in
/// epochs (fractional within an epoch, so per-batch schedules such as one-cycle are smooth).
/// </summary>
public abstract class Schedule
{
    public abstract double Multiplier(double epoch);

    /// <summary>Sets every group's learning rate for this point of training.</summary>
    public void Apply(Optimizer optimizer, double epoch)
    {
        double f = Multiplier(epoch);
        foreach (var g in optimizer.Groups) g.LearningRate = (float)(g.BaseLearningRate * f);
    }
}

/// <summary>Constant learning rate.</summary>
public sealed class ConstantSchedule : Schedule
{
    public override double Multiplier(double epoch) => 1;
}

/// <summary>StepLR: multiply by gamma every <paramref name="stepSize"/> epochs.</summary>
public sealed class StepSchedule(int stepSize, double gamma) : Schedule
{
    public override double Multiplier(double epoch) => Math.Pow(gamma, Math.Floor(Math.Floor(epoch) / stepSize));
}

/// <summary>MultiStepLR: multiply by gamma at each milestone epoch.</summary>
public sealed class MultiStepSchedule(IEnumerable<int> milestones, double gamma) : Schedule
{
    readonly int[] _milestones = milestones.Order().ToArray();
    public override double Multiplier(double epoch) => Math.Pow(gamma, _milestones.Count(m => Math.Floor(epoch) >= m));
}

/// <summary>ExponentialLR: multiply by gamma every epoch.</summary>
public sealed class ExponentialSchedule(double gamma) : Schedule
{
    public override double Multiplier(double epoch) => Math.Pow(gamma, Math.Floor(epoch));
}

/// <summary>
/// Cosine annealing with warm restarts (SGDR): within a cycle of length T (T0, then ×tMult each restart),
/// multiplier = minFactor + (1 − minFactor)·(1 + cos(π·t/T))/2.
/// </summary>
public sealed class CosineWarmRestartsSchedule(double t0, double tMult = 1, double minFactor = 0) : Schedule
{
    public override double Multiplier(double epoch)
    {
        double t = epoch, length = t0;
        if (tMult == 1) t %= t0;
        else
            while (t >= length) { t -= length; length *= tMult; }
        return minFactor + (1 - minFactor) * (1 + Math.Cos(Math.PI * t / length)) / 2;
    }
}

/// <summary>
/// One-cycle (PyTorch's OneCycleLR, two phases, cosine): from 1/div up to 1 over the first pctStart of training,
/// then down to 1/(div·finalDiv). The base learning rate is the maximum.
/// </summary>
public sealed class OneCycleSchedule(double totalEpochs, double pctStart = 0.3, double div = 25, double finalDiv = 1e4) : Schedule
{
    static double Cos(double from, double to, double pct) => to + (from - to) * (1 + Math.Cos(Math.PI * pct)) / 2;

    public override double Multiplier(double epoch)
    {
        double peak = pctStart * totalEpochs;
        double start = 1 / div, end = start / finalDiv;
        if (epoch <= peak) return Cos(start, 1, peak <= 0 ? 1 : epoch / peak);
        return Cos(1, end, Math.Min(1, (epoch - peak) / Math.Max(totalEpochs - peak, 1e-12)));
    }
}

/// <summary>Linear warm-up from <paramref name="startFactor"/> to 1 over the first epochs, then the inner schedule (shifted).</summary>
public sealed class WarmupSchedule(double warmupEpochs, Schedule inner, double startFactor = 0) : Schedule
{
    public override double Multiplier(double epoch) =>
        epoch < warmupEpochs ? startFactor + (1 - startFactor) * epoch / warmupEpochs : inner.Multiplier(epoch - warmupEpochs);
}
