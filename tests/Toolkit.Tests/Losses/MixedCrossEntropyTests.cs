using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Losses;

/// <summary>Cross-entropy against mixed targets (mixup, CutMix): λ·CE(a) + (1 − λ)·CE(b), and its gradient.</summary>
public class MixedCrossEntropyTests
{
    /// <summary>Agreement of two double-accumulated evaluations of the same sums.</summary>
    const double Exact = 1e-12;

    /// <summary>Step and bound of the central difference of the float-free loss (logits perturbed in float).</summary>
    const float Step = 1e-2f;
    const double FiniteDifferenceTolerance = 2e-4;

    static Tensor Logits(int n, int c, int seed)
    {
        var rng = new Random(seed);
        var t = new Tensor(n, c);
        for (int i = 0; i < t.Length; i++) t.Span[i] = (float)(rng.NextDouble() * 4 - 2);
        return t;
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void IsTheWeightedSumOfTheTwoPlainLosses(float smoothing)
    {
        var loss = new CrossEntropyLoss(smoothing);
        var z = Logits(5, 4, 1);
        int[] a = [0, 1, 2, 3, 1], b = [3, 1, 0, 2, 2];
        const float lambda = 0.3f;
        double mixed = loss.Compute(z, a, b, lambda, null);
        double expected = lambda * loss.Compute(z, a, null) + (1 - lambda) * loss.Compute(z, b, null);
        Assert.Equal(expected, mixed, Exact);
    }

    [Fact]
    public void LambdaOneIsThePlainLossBitForBit()
    {
        var loss = new CrossEntropyLoss(0.1f, [1f, 2f, 0.5f]);
        var z = Logits(4, 3, 2);
        int[] a = [0, 1, 2, 1], b = [2, 2, 0, 0];
        var g1 = new Tensor(4, 3); var g2 = new Tensor(4, 3);
        Assert.Equal(loss.Compute(z, a, g1), loss.Compute(z, a, b, 1f, g2));
        Assert.True(g1.Span.SequenceEqual(g2.Span));
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesWithClassWeightsAndSmoothing()
    {
        var loss = new CrossEntropyLoss(0.05f, [1f, 0.5f, 2f, 1.5f]);
        var z = Logits(3, 4, 3);
        int[] a = [0, 2, 3], b = [1, 2, 0];
        const float lambda = 0.62f;
        var g = new Tensor(3, 4);
        loss.Compute(z, a, b, lambda, g);
        for (int i = 0; i < z.Length; i++)
        {
            var plus = z.Clone(); plus.Span[i] += Step;
            var minus = z.Clone(); minus.Span[i] -= Step;
            double numeric = (loss.Compute(plus, a, b, lambda, null) - loss.Compute(minus, a, b, lambda, null)) / (2 * Step);
            Assert.True(Math.Abs(numeric - g.Span[i]) < FiniteDifferenceTolerance, $"logit {i}: analytic {g.Span[i]:G6}, numeric {numeric:G6}");
        }
    }

    [Fact]
    public void ALambdaOutsideZeroToOneIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CrossEntropyLoss().Compute(Logits(1, 2, 0), [0], [1], 1.5f, null));
}
