using System.Numerics;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Losses;

/// <summary>
/// Binary cross-entropy on logits with optional per-class positive weights p (PyTorch's BCEWithLogitsLoss, mean
/// reduction), in the log-sum-exp form that never overflows: with softplus(z) = max(z, 0) + log(1 + e^−|z|),
/// loss_i = p_c·y_i·softplus(−x_i) + (1 − y_i)·softplus(x_i), averaged over all N elements (c = the element's index
/// along the last axis). Gradient: dx_i = (σ(x_i)·(p_c·y_i + 1 − y_i) − p_c·y_i) / N.
/// </summary>
public sealed class BinaryCrossEntropyWithLogitsLoss
{
    /// <summary>Creates the loss; <paramref name="positiveWeights"/> (one per class, the last axis) scale the positive term.</summary>
    public BinaryCrossEntropyWithLogitsLoss(float[]? positiveWeights = null)
    {
        if (positiveWeights != null)
        {
            if (positiveWeights.Length == 0) throw new ArgumentException("pos_weight is empty; give one weight per class or none.");
            for (int c = 0; c < positiveWeights.Length; c++)
                if (!float.IsFinite(positiveWeights[c]) || positiveWeights[c] < 0)
                    throw new ArgumentException($"pos_weight[{c}] is {positiveWeights[c]}; positive weights must be finite and non-negative.");
        }
        PositiveWeights = positiveWeights;
    }

    /// <summary>Per-class weights of the positive term (PyTorch's pos_weight), or null for 1.</summary>
    public float[]? PositiveWeights { get; }

    /// <summary>
    /// Returns the mean loss of <paramref name="logits"/> (any shape; with positive weights the last axis is the class axis)
    /// against <paramref name="targets"/> in [0, 1] (same element count) and writes dloss/dlogits into
    /// <paramref name="gradient"/> (overwritten) when given.
    /// </summary>
    public double Compute(Tensor logits, ReadOnlySpan<float> targets, Tensor? gradient)
    {
        if (logits.Rank == 0 || logits.Length == 0) throw new ShapeException($"Binary cross-entropy expects a non-empty tensor of logits, got {Shapes.Format(logits.Shape)}.");
        if (PositiveWeights != null && logits.Dim(-1) != PositiveWeights.Length)
            throw new ArgumentException($"{PositiveWeights.Length} positive weights for logits {Shapes.Format(logits.Shape)} with {logits.Dim(-1)} classes on the last axis.");
        if (gradient != null && !gradient.Shape.SequenceEqual(logits.Shape))
            throw new ShapeException($"Binary cross-entropy gradient {Shapes.Format(gradient.Shape)} does not match logits {Shapes.Format(logits.Shape)}.");
        return Compute<float>(logits.Span, targets, gradient == null ? default : gradient.Span);
    }

    /// <summary>
    /// The same over spans of any IEEE float type (double for gradient checks); element i belongs to class
    /// i mod (number of positive weights). Accumulates in double. An empty <paramref name="gradient"/> skips the gradient.
    /// </summary>
    public double Compute<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, Span<T> gradient) where T : IBinaryFloatingPointIeee754<T>
    {
        int n = logits.Length;
        if (n == 0) throw new ArgumentException("Binary cross-entropy of no logits.");
        if (targets.Length != n) throw new ArgumentException($"{targets.Length} targets for {n} logits.");
        if (!gradient.IsEmpty && gradient.Length != n) throw new ArgumentException($"Gradient of {gradient.Length} elements for {n} logits.");
        int classes = PositiveWeights?.Length ?? 1;
        if (n % classes != 0) throw new ArgumentException($"{n} logits are not a whole number of rows of {classes} classes.");
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double x = double.CreateTruncating(logits[i]), y = double.CreateTruncating(targets[i]);
            if (!(y >= 0 && y <= 1)) throw new ArgumentException($"Target {i} is {y}; binary cross-entropy targets lie in [0, 1].");
            double p = PositiveWeights?[i % classes] ?? 1;
            total += p * y * Softplus(-x) + (1 - y) * Softplus(x);
            if (!gradient.IsEmpty) gradient[i] = T.CreateTruncating((Sigmoid(x) * (p * y + 1 - y) - p * y) / n);
        }
        return total / n;
    }

    /// <summary>log(1 + eᶻ) without overflow: max(z, 0) + log1p(e^−|z|).</summary>
    static double Softplus(double z) => Math.Max(z, 0) + double.LogP1(Math.Exp(-Math.Abs(z)));

    /// <summary>σ(x) with the exponential of a non-positive number only.</summary>
    static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }
}
