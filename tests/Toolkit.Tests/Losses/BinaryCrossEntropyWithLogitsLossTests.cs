using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Losses;

/// <summary>Binary cross-entropy on logits: values from the textbook formula, extreme logits, pos_weight, gradients by central differences.</summary>
public class BinaryCrossEntropyWithLogitsLossTests
{
    /// <summary>Loss values in double against a differently written formula (a few ulp of round-off).</summary>
    const double ValueTolerance = 1e-12;

    /// <summary>The float32 entry point against the double one: inputs rounded to float, loss still accumulated in double.</summary>
    const double FloatTolerance = 1e-6;

    /// <summary>Central-difference step in double: truncation h²·f‴/6 ≈ 1e-13, round-off ε·|L|/h ≈ 1e-10.</summary>
    const double DifferenceStep = 1e-6;

    /// <summary>Allowed |analytic − numeric| ≤ GradientAbsolute + GradientRelative·|numeric| (gradcheck's bounds, in double).</summary>
    const double GradientAbsolute = 1e-8, GradientRelative = 1e-6;

    const int Rows = 5, Classes = 3;

    static (double[] Logits, double[] Targets) Sample(int seed, double scale = 4)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, Rows * Classes).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
        // Hard labels and soft ones.
        var y = Enumerable.Range(0, Rows * Classes).Select(i => i % 4 == 3 ? rng.NextDouble() : rng.Next(2)).ToArray();
        return (x, y);
    }

    /// <summary>The textbook form −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], fine for moderate logits.</summary>
    static double Naive(double[] x, double[] y, float[]? pos)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double sig = 1 / (1 + Math.Exp(-x[i]));
            double p = pos?[i % pos.Length] ?? 1;
            s -= p * y[i] * Math.Log(sig) + (1 - y[i]) * Math.Log(1 - sig);
        }
        return s / x.Length;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ValueMatchesTheTextbookFormula(bool weighted)
    {
        float[]? pos = weighted ? [0.5f, 2f, 3.25f] : null;
        var (x, y) = Sample(1);
        var loss = new BinaryCrossEntropyWithLogitsLoss(pos);
        double got = loss.Compute<double>(x, y, default);
        double expected = Naive(x, y, pos);
        Assert.True(Math.Abs(got - expected) <= ValueTolerance * Math.Abs(expected), $"{got} vs {expected}");

        var logits = new Tensor([Rows, Classes], x.Select(v => (float)v).ToArray());
        double viaFloat = loss.Compute(logits, y.Select(v => (float)v).ToArray(), null);
        double expectedFloat = Naive(x.Select(v => (double)(float)v).ToArray(), y.Select(v => (double)(float)v).ToArray(), pos);
        Assert.True(Math.Abs(viaFloat - expectedFloat) <= FloatTolerance * Math.Abs(expectedFloat), $"{viaFloat} vs {expectedFloat}");
    }

    [Fact]
    public void HardLabelsAgreeWithTwoClassCrossEntropy()
    {
        // σ(x) is the softmax of [0, x]: BCE(x, y) = CE([0, x], y) for y ∈ {0, 1}.
        var x = new float[] { -3.5f, -0.25f, 0f, 0.75f, 6f, 11f };
        var y = new[] { 1, 0, 1, 1, 0, 1 };
        double bce = new BinaryCrossEntropyWithLogitsLoss().Compute(new Tensor([x.Length], x), y.Select(v => (float)v).ToArray(), null);
        var pairs = new Tensor([x.Length, 2], x.SelectMany(v => new[] { 0f, v }).ToArray());
        double ce = new CrossEntropyLoss().Compute(pairs, y, null);
        Assert.True(Math.Abs(bce - ce) <= FloatTolerance * ce, $"BCE {bce} vs CE {ce}");
    }

    [Fact]
    public void ExtremeLogitsStayFinite()
    {
        // Saturated sigmoids: softplus(z) = max(z, 0) up to e^−100, so the loss is p·y·max(−x, 0) + (1 − y)·max(x, 0).
        float[] pos = [2f, 0.5f];
        var x = new[] { 100f, -100f, 100f, -100f, 100f, -100f };
        var y = new[] { 1f, 1f, 0f, 0f, 0.25f, 0.75f };
        var loss = new BinaryCrossEntropyWithLogitsLoss(pos);
        var grad = new Tensor([3, 2]);
        double got = loss.Compute(new Tensor([3, 2], x), y, grad);
        double expected = 0, n = x.Length;
        var expectedGrad = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double p = pos[i % 2];
            expected += p * y[i] * Math.Max(-x[i], 0) + (1 - y[i]) * Math.Max(x[i], 0);
            // σ(100) = 1, σ(−100) = 0 (to e^−100).
            expectedGrad[i] = (x[i] > 0 ? p * y[i] + 1 - y[i] - p * y[i] : -p * y[i]) / n;
        }
        expected /= n;
        Assert.True(double.IsFinite(got));
        Assert.True(Math.Abs(got - expected) <= FloatTolerance * expected, $"{got} vs {expected}");
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(float.IsFinite(grad.Span[i]), $"gradient {i} is {grad.Span[i]}");
            Assert.True(Math.Abs(grad.Span[i] - expectedGrad[i]) <= FloatTolerance, $"gradient {i}: {grad.Span[i]} vs {expectedGrad[i]}");
        }
        // Far beyond what exp() can hold.
        var huge = new Tensor([2, 2], [1e30f, -1e30f, -3e38f, 3e38f]);
        Assert.True(double.IsFinite(loss.Compute(huge, [1f, 0f, 0.5f, 0.5f], gradient: new Tensor([2, 2]))));
    }

    [Theory]
    [InlineData(false, 4.0)]
    [InlineData(true, 4.0)]
    [InlineData(true, 30.0)]
    public void GradientMatchesCentralDifferences(bool weighted, double scale)
    {
        float[]? pos = weighted ? [0.5f, 2f, 3.25f] : null;
        var (x, y) = Sample(7, scale);
        var loss = new BinaryCrossEntropyWithLogitsLoss(pos);
        var grad = new double[x.Length];
        loss.Compute<double>(x, y, grad);
        for (int i = 0; i < x.Length; i++)
        {
            var plus = (double[])x.Clone(); plus[i] += DifferenceStep;
            var minus = (double[])x.Clone(); minus[i] -= DifferenceStep;
            double numeric = (loss.Compute<double>(plus, y, default) - loss.Compute<double>(minus, y, default)) / (2 * DifferenceStep);
            Assert.True(Math.Abs(grad[i] - numeric) <= GradientAbsolute + GradientRelative * Math.Abs(numeric),
                $"element {i} (x = {x[i]:G4}, y = {y[i]:G4}): analytic {grad[i]:G10}, numeric {numeric:G10}");
        }
        // The float32 entry point writes the same gradient, rounded.
        var g32 = new Tensor([Rows, Classes]);
        loss.Compute(new Tensor([Rows, Classes], x.Select(v => (float)v).ToArray()), y.Select(v => (float)v).ToArray(), g32);
        var g64 = new double[x.Length];
        loss.Compute<double>(x.Select(v => (double)(float)v).ToArray(), y.Select(v => (double)(float)v).ToArray(), g64);
        for (int i = 0; i < x.Length; i++) Assert.Equal((float)g64[i], g32.Span[i]);
    }

    [Fact]
    public void MismatchesAreRefused()
    {
        var loss = new BinaryCrossEntropyWithLogitsLoss([1f, 2f, 3f]);
        var e = Assert.Throws<ArgumentException>(() => loss.Compute(new Tensor(4, 2), new float[8], null));
        Assert.Contains("3 positive weights", e.Message);
        Assert.Throws<ArgumentException>(() => loss.Compute(new Tensor(2, 3), new float[5], null));
        Assert.Throws<ShapeException>(() => loss.Compute(new Tensor(2, 3), new float[6], new Tensor(3, 2)));
        var bad = Assert.Throws<ArgumentException>(() => new BinaryCrossEntropyWithLogitsLoss().Compute(new Tensor(2), [0f, 1.5f], null));
        Assert.Contains("Target 1", bad.Message);
        Assert.Throws<ArgumentException>(() => new BinaryCrossEntropyWithLogitsLoss([1f, -1f]));
    }
}
