using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// Learning-rate range test (Leslie Smith; fastai's lr_find): train for up to <see cref="Steps"/> batches while the
/// learning rate grows exponentially, lr_i = start·(end/start)^(i/(steps − 1)); track the loss smoothed by an
/// exponential moving average with bias correction, a_i = β·a_{i−1} + (1 − β)·loss_i, s_i = a_i/(1 − β^(i+1)); stop
/// once s_i exceeds <see cref="DivergenceFactor"/>× the best s so far (or the loss is not finite). The suggestion is
/// the rate where s falls fastest against log lr. Parameters, gradients and optimizer state are put back afterwards,
/// so the sweep leaves no trace on the model.
/// </summary>
public sealed class LrFinder
{
    public double StartLr { get; init; } = 1e-7;
    public double EndLr { get; init; } = 10;
    public int Steps { get; init; } = 100;
    /// <summary>Weight of the past in the moving average of the loss.</summary>
    public double Beta { get; init; } = 0.98;
    /// <summary>Stop when the smoothed loss exceeds this multiple of its best value (the loss must be non-negative).</summary>
    public double DivergenceFactor { get; init; } = 4;
    /// <summary>Points at the start left out of the suggestion (the average has seen few batches there).</summary>
    public int SkipStart { get; init; } = 10;
    /// <summary>Points at the end left out of the suggestion (where divergence sets in).</summary>
    public int SkipEnd { get; init; } = 5;

    /// <summary>The learning rate of step <paramref name="step"/> of the sweep.</summary>
    public double LearningRateAt(int step) => StartLr * Math.Pow(EndLr / StartLr, Steps == 1 ? 0 : step / (double)(Steps - 1));

    /// <summary>
    /// Runs the sweep. Each step sets the rates, zeroes the gradients, calls <paramref name="lossAndGradients"/> with the
    /// step number (it must run one batch forward, accumulate that batch's gradients into the parameters and return its
    /// loss) and takes an optimizer step. The first group trains at the swept rate; every other group keeps its ratio
    /// of base learning rates to the first one (discriminative rates move together). Afterwards every parameter of the
    /// optimizer's groups and of <paramref name="alsoRestore"/> (e.g. batch-norm running statistics) gets its starting
    /// values back bit for bit, gradients are zeroed and the optimizer is restored, even when the callback throws.
    /// </summary>
    public LrFinderResult Run(Optimizer optimizer, Func<int, double> lossAndGradients, IEnumerable<Parameter>? alsoRestore = null)
    {
        Validate();
        if (optimizer.Groups.Length == 0) throw new ArgumentException("The optimizer has no parameter groups to sweep the learning rate of.");
        var parameters = optimizer.Groups.SelectMany(g => g.Parameters).Concat(alsoRestore ?? []).Distinct().ToList();
        var saved = parameters.Select(p => p.Value.Span.ToArray()).ToArray();
        var state = optimizer.Snapshot();
        double baseRate = optimizer.Groups[0].BaseLearningRate;
        var ratios = optimizer.Groups.Select(g => baseRate > 0 ? g.BaseLearningRate / baseRate : 1.0).ToArray();

        var curve = new List<LrFinderPoint>(Steps);
        string? stop = null;
        try
        {
            double average = 0, best = double.PositiveInfinity;
            for (int i = 0; i < Steps; i++)
            {
                double lr = LearningRateAt(i);
                for (int g = 0; g < ratios.Length; g++) optimizer.Groups[g].LearningRate = (float)(lr * ratios[g]);
                optimizer.ZeroGrad();
                double loss = lossAndGradients(i);
                if (!double.IsFinite(loss)) { stop = $"the loss became {loss} at lr {lr:G3} (step {i + 1})"; break; }
                average = Beta * average + (1 - Beta) * loss;
                double smoothed = average / (1 - Math.Pow(Beta, i + 1));
                curve.Add(new LrFinderPoint(i, lr, loss, smoothed));
                best = Math.Min(best, smoothed);
                if (smoothed > DivergenceFactor * best)
                {
                    stop = $"the smoothed loss {smoothed:G4} exceeded {DivergenceFactor:G3} times the best {best:G4} at lr {lr:G3} (step {i + 1})";
                    break;
                }
                optimizer.Step();
            }
        }
        finally
        {
            for (int k = 0; k < parameters.Count; k++)
            {
                if (parameters[k].Value.Length != saved[k].Length)
                    throw new InvalidOperationException($"Parameter '{parameters[k].Name}' changed size during the learning-rate sweep.");
                saved[k].CopyTo(parameters[k].Value.Span);
                parameters[k].Grad?.Span.Clear();
            }
            optimizer.Restore(state);
        }
        var smooth = curve.Select(p => p.SmoothedLoss).ToArray();
        int minimum = smooth.Length == 0 ? -1 : Array.IndexOf(smooth, smooth.Min());
        return new LrFinderResult(curve, Suggest(curve, SkipStart, SkipEnd), minimum, curve.Count < Steps, stop);
    }

    /// <summary>
    /// Index of the steepest descent of the smoothed loss against log lr: the most negative slope by central
    /// differences (one-sided at the ends), looked for among the points after the first <paramref name="skipStart"/>
    /// and before the last <paramref name="skipEnd"/> (over the whole curve when that leaves fewer than two points).
    /// −1 for a curve of fewer than two points.
    /// </summary>
    public static int Suggest(IReadOnlyList<LrFinderPoint> curve, int skipStart = 10, int skipEnd = 5)
    {
        int n = curve.Count;
        if (n < 2) return -1;
        var u = curve.Select(p => Math.Log(p.LearningRate)).ToArray();
        var s = curve.Select(p => p.SmoothedLoss).ToArray();
        double Slope(int i) => i == 0 ? (s[1] - s[0]) / (u[1] - u[0])
            : i == n - 1 ? (s[n - 1] - s[n - 2]) / (u[n - 1] - u[n - 2])
            : (s[i + 1] - s[i - 1]) / (u[i + 1] - u[i - 1]);
        int from = Math.Max(0, skipStart), to = n - Math.Max(0, skipEnd);
        if (to - from < 2) (from, to) = (0, n);
        int best = from;
        for (int i = from + 1; i < to; i++) if (Slope(i) < Slope(best)) best = i;
        return best;
    }

    void Validate()
    {
        if (!(StartLr > 0) || !(EndLr > StartLr) || double.IsInfinity(EndLr))
            throw new ArgumentException($"The learning-rate sweep needs 0 < start < end, finite; got start {StartLr:G3}, end {EndLr:G3}.");
        if (Steps < 2) throw new ArgumentException($"The learning-rate sweep needs at least 2 steps; got {Steps}.");
        if (!(Beta >= 0 && Beta < 1)) throw new ArgumentException($"The smoothing factor beta must lie in [0, 1); got {Beta}.");
        if (!(DivergenceFactor > 1)) throw new ArgumentException($"The divergence factor must be above 1; got {DivergenceFactor}.");
    }
}
