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
    public double Compute(Tensor logits, ReadOnlySpan<int> targets, Tensor? gradient)
    {
        if (logits.Rank != 2) throw new ShapeException($"Cross-entropy expects [N, C] logits, got {Shapes.Format(logits.Shape)}.");
        int n = logits.Dim(0), c = logits.Dim(1);
        if (targets.Length != n) throw new ArgumentException($"{targets.Length} targets for {n} rows.");
        if (ClassWeights != null && ClassWeights.Length != c) throw new ArgumentException($"{ClassWeights.Length} class weights for {c} classes.");
        var z = logits.Span;
        var p = new double[c];
        double total = 0, norm = 0;
        var rowGrads = gradient == null ? null : new double[n * c];
        for (int i = 0; i < n; i++)
        {
            int y = targets[i];
            if (y < 0 || y >= c) throw new ArgumentException($"Target {y} of row {i} is outside 0..{c - 1}.");
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
                double q = (k == y ? 1 - LabelSmoothing : 0) + LabelSmoothing / c;
                double w = ClassWeights?[k] ?? 1;
                loss -= w * q * (row[k] - logSum);
                wq += w * q;
            }
            total += loss;
            norm += ClassWeights?[y] ?? 1;
            if (rowGrads != null)
                for (int k = 0; k < c; k++)
                {
                    double q = (k == y ? 1 - LabelSmoothing : 0) + LabelSmoothing / c;
                    rowGrads[i * c + k] = wq * p[k] - (ClassWeights?[k] ?? 1) * q;
                }
        }
        if (gradient != null)
        {
            var g = gradient.Span;
            for (int i = 0; i < g.Length; i++) g[i] = (float)(rowGrads![i] / norm);
        }
        return total / norm;
    }
}
