using System.Numerics;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Losses;

/// <summary>
/// Mean squared error (PyTorch's MSELoss, mean reduction): loss = Σ_i (x_i − t_i)² / N over all N elements.
/// Gradient: dx_i = 2·(x_i − t_i) / N.
/// </summary>
public sealed class MeanSquaredErrorLoss
{
    /// <summary>
    /// Returns the mean squared error of <paramref name="input"/> against <paramref name="targets"/> (same element count)
    /// and writes dloss/dinput into <paramref name="gradient"/> (overwritten) when given.
    /// </summary>
    public double Compute(Tensor input, ReadOnlySpan<float> targets, Tensor? gradient)
    {
        if (input.Length == 0) throw new ShapeException($"Mean squared error of an empty tensor {Shapes.Format(input.Shape)}.");
        if (gradient != null && !gradient.Shape.SequenceEqual(input.Shape))
            throw new ShapeException($"Mean squared error gradient {Shapes.Format(gradient.Shape)} does not match input {Shapes.Format(input.Shape)}.");
        return Compute<float>(input.Span, targets, gradient == null ? default : gradient.Span);
    }

    /// <summary>
    /// The same over spans of any IEEE float type (double for gradient checks); accumulates in double.
    /// An empty <paramref name="gradient"/> skips the gradient.
    /// </summary>
    public double Compute<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> targets, Span<T> gradient) where T : IBinaryFloatingPointIeee754<T>
    {
        int n = input.Length;
        if (n == 0) throw new ArgumentException("Mean squared error of no elements.");
        if (targets.Length != n) throw new ArgumentException($"{targets.Length} targets for {n} inputs.");
        if (!gradient.IsEmpty && gradient.Length != n) throw new ArgumentException($"Gradient of {gradient.Length} elements for {n} inputs.");
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateTruncating(input[i]) - double.CreateTruncating(targets[i]);
            total += d * d;
            if (!gradient.IsEmpty) gradient[i] = T.CreateTruncating(2 * d / n);
        }
        return total / n;
    }
}
