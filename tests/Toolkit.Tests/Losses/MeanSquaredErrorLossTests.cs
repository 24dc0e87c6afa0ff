using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Losses;

/// <summary>Mean squared error: values, gradients by central differences in double, shape checks.</summary>
public class MeanSquaredErrorLossTests
{
    /// <summary>The float32 entry point against a double recomputation (inputs rounded to float, accumulation in double).</summary>
    const double FloatTolerance = 1e-6;

    /// <summary>Central-difference step in double (a quadratic: truncation is zero, round-off ε·|L|/h ≈ 1e-10).</summary>
    const double DifferenceStep = 1e-6;

    /// <summary>Allowed |analytic − numeric| ≤ GradientAbsolute + GradientRelative·|numeric| (gradcheck's bounds, in double).</summary>
    const double GradientAbsolute = 1e-8, GradientRelative = 1e-6;

    static double[] Random(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void ValueIsTheMeanOfSquaredDifferences()
    {
        // Hand-checked: differences 1, −2, 0.5, 0 → (1 + 4 + 0.25 + 0) / 4.
        var loss = new MeanSquaredErrorLoss();
        Assert.Equal(1.3125, loss.Compute(new Tensor([2, 2], [1f, 0f, 2.5f, -3f]), [0f, 2f, 2f, -3f], null));

        var x = Random(24, 1, 10); var t = Random(24, 2, 10);
        var grad = new Tensor([4, 6]);
        double got = loss.Compute(new Tensor([4, 6], x.Select(v => (float)v).ToArray()), t.Select(v => (float)v).ToArray(), grad);
        double expected = x.Zip(t, (a, b) => Math.Pow((float)a - (double)(float)b, 2)).Average();
        Assert.True(Math.Abs(got - expected) <= FloatTolerance * expected, $"{got} vs {expected}");
        for (int i = 0; i < x.Length; i++)
            Assert.Equal((float)(2 * ((float)x[i] - (double)(float)t[i]) / x.Length), grad.Span[i]);
    }

    [Fact]
    public void GradientMatchesCentralDifferences()
    {
        var loss = new MeanSquaredErrorLoss();
        var x = Random(30, 3, 5); var t = Random(30, 4, 5);
        var grad = new double[x.Length];
        loss.Compute<double>(x, t, grad);
        for (int i = 0; i < x.Length; i++)
        {
            var plus = (double[])x.Clone(); plus[i] += DifferenceStep;
            var minus = (double[])x.Clone(); minus[i] -= DifferenceStep;
            double numeric = (loss.Compute<double>(plus, t, default) - loss.Compute<double>(minus, t, default)) / (2 * DifferenceStep);
            Assert.True(Math.Abs(grad[i] - numeric) <= GradientAbsolute + GradientRelative * Math.Abs(numeric),
                $"element {i}: analytic {grad[i]:G10}, numeric {numeric:G10}");
        }
    }

    [Fact]
    public void LargeValuesDoNotOverflow()
    {
        // (3e38)² overflows float32 but not the double accumulator.
        var grad = new Tensor(2);
        double l = new MeanSquaredErrorLoss().Compute(new Tensor([2], [3e38f, -3e38f]), [0f, 0f], grad);
        Assert.True(double.IsFinite(l));
        Assert.Equal(9e76, l, 9e76 * FloatTolerance);
    }

    [Fact]
    public void MismatchesAreRefused()
    {
        var loss = new MeanSquaredErrorLoss();
        Assert.Throws<ArgumentException>(() => loss.Compute(new Tensor(2, 3), new float[5], null));
        Assert.Throws<ShapeException>(() => loss.Compute(new Tensor(2, 3), new float[6], new Tensor(6)));
    }
}
