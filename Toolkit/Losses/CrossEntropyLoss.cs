using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Losses;

/// <summary>
/// Cross-entropy on logits [N, C] with integer targets, optional label smoothing ε and class weights w (PyTorch's
/// semantics): q = (1 − ε)·onehot + ε/C, loss_i = −Σ_c w_c·q_ic·log softmax(z_i)_c, mean over Σ_i w_{y_i}.
/// Gradient: dz_ic = ((Σ_c′ w_c′·q_ic′)·p_ic − w_c·q_ic) / Σ_i w_{y_i}.
/// </summary>
public sealed class CrossEntropyLoss(float labelSmoothing = 0, float[]? classWeights = null)
{
    public float LabelSmoothing { get; } = labelSmoothing;
    public float[]? ClassWeights { get; } = classWeights;

    /// <summary>Returns the mean loss and writes dloss/dlogits into <paramref name="gradient"/> (overwritten).</summary>
    public double Compute(Tensor logits, ReadOnlySpan<int> targets, Tensor? gradient) => Compute(logits, targets, targets, 1f, gradient);

    /// <summary>
    /// The loss against mixed targets (mixup, CutMix): row i's target is λ of class a_i and 1 − λ of class b_i, each
    /// smoothed as above, so q_i = λ·q(a_i) + (1 − λ)·q(b_i) and the mean runs over Σ_i λ·w_{a_i} + (1 − λ)·w_{b_i}.
    /// With λ = 1 (or a = b) it is the plain loss.
    /// </summary>
    public double Compute(Tensor logits, ReadOnlySpan<int> targetsA, ReadOnlySpan<int> targetsB, float lambda, Tensor? gradient)
    {
        if (logits.Rank != 2) throw new ShapeException($"Cross-entropy expects [N, C] logits, got {Shapes.Format(logits.Shape)}.");
        int n = logits.Dim(0), c = logits.Dim(1);
        if (targetsA.Length != n || targetsB.Length != n) throw new ArgumentException($"{targetsA.Length} and {targetsB.Length} targets for {n} rows.");
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "The mixing weight must lie in 0..1.");
        if (ClassWeights != null && ClassWeights.Length != c) throw new ArgumentException($"{ClassWeights.Length} class weights for {c} classes.");
        var z = logits.Span;
        var p = new double[c];
        var q = new double[c];
        double total = 0, norm = 0;
        var rowGrads = gradient == null ? null : new double[n * c];
        for (int i = 0; i < n; i++)
        {
            int a = targetsA[i], b = targetsB[i];
            if (a < 0 || a >= c) throw new ArgumentException($"Target {a} of row {i} is outside 0..{c - 1}.");
            if (b < 0 || b >= c) throw new ArgumentException($"Target {b} of row {i} is outside 0..{c - 1}.");
            var row = z.Slice(i * c, c);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            for (int k = 0; k < c; k++) { p[k] = Math.Exp(row[k] - max); sum += p[k]; }
            double logSum = Math.Log(sum) + max;
            double wq = 0, loss = 0;
            for (int k = 0; k < c; k++)
            {
                p[k] /= sum;
                q[k] = lambda * Smoothed(k, a, c) + (1 - lambda) * Smoothed(k, b, c);
                double w = ClassWeights?[k] ?? 1;
                loss -= w * q[k] * (row[k] - logSum);
                wq += w * q[k];
            }
            total += loss;
            norm += lambda * (ClassWeights?[a] ?? 1) + (1 - lambda) * (ClassWeights?[b] ?? 1);
            if (rowGrads != null)
                for (int k = 0; k < c; k++) rowGrads[i * c + k] = wq * p[k] - (ClassWeights?[k] ?? 1) * q[k];
        }
        if (gradient != null)
        {
            var g = gradient.Span;
            for (int i = 0; i < g.Length; i++) g[i] = (float)(rowGrads![i] / norm);
        }
        return total / norm;
    }

    /// <summary>The smoothed one-hot target of class <paramref name="y"/> at class <paramref name="k"/>.</summary>
    double Smoothed(int k, int y, int c) => (k == y ? 1 - LabelSmoothing : 0) + LabelSmoothing / c;
}
