using TransferKit.FineTune.Tuning;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary>The truncated Gaussian mixture under TPE: a proper density on its interval, the adaptive bandwidths, its samples.</summary>
public class ParzenEstimatorTests
{
    /// <summary>Trapezoid integration over 20,000 steps plus the erf approximation (1.5e-7) stay well inside this.</summary>
    const double IntegralTolerance = 1e-3;

    [Theory]
    [InlineData(new double[] { }, 0.0, 1.0)]
    [InlineData(new[] { 0.1, 0.9 }, 0.0, 1.0)]
    [InlineData(new[] { -9.0, -9.0, -8.9, -2.0 }, -9.2, -2.3)]
    public void DensityIntegratesToOneOverTheInterval(double[] points, double low, double high)
    {
        var p = ParzenEstimator.Fit(points, low, high);
        const int steps = 20000;
        double h = (high - low) / steps, sum = 0;
        for (int i = 0; i <= steps; i++)
        {
            double w = i == 0 || i == steps ? 0.5 : 1;
            sum += w * Math.Exp(p.LogDensity(low + i * h));
        }
        Assert.Equal(1, sum * h, IntegralTolerance);
        Assert.Equal(double.NegativeInfinity, p.LogDensity(high + 0.01));
    }

    [Fact]
    public void BandwidthIsTheLargerGapToANeighbour()
    {
        // Sorted with the prior's centre 0.5: 0.1 | 0.5 | 0.9; gaps to neighbours (or the ends) are 0.1 and 0.4.
        var p = ParzenEstimator.Fit([0.1, 0.9], 0, 1);
        Assert.Equal([0.5, 0.1, 0.9], p.Centres);
        Assert.Equal(1.0, p.Bandwidths[0], 12);
        Assert.Equal(0.4, p.Bandwidths[1], 12);
        Assert.Equal(0.4, p.Bandwidths[2], 12);
        // Coincident points get the floor width / min(100, n + 1), not zero.
        var q = ParzenEstimator.Fit([0.3, 0.3, 0.3], 0, 1);
        Assert.All(q.Bandwidths.Skip(1), s => Assert.True(s >= 0.25 - 1e-12, $"bandwidth {s}"));
    }

    /// <summary>Five thousand draws: the sampled share of an interval has a standard deviation below 0.007.</summary>
    const double SampledShareTolerance = 0.03;

    [Fact]
    public void SamplesStayInsideAndFollowTheDensity()
    {
        var p = ParzenEstimator.Fit([0.05, 0.06, 0.07, 0.08], 0, 1);
        var random = new Random(5);
        var xs = Enumerable.Range(0, 5000).Select(_ => p.Sample(random)).ToArray();
        Assert.All(xs, x => Assert.InRange(x, 0, 1));
        foreach (var edge in new[] { 0.1, 0.25, 0.5 })
        {
            // The density's mass below the edge (trapezoid rule) against the share of draws below it.
            const int steps = 5000;
            double h = edge / steps, mass = 0;
            for (int i = 0; i <= steps; i++) mass += (i == 0 || i == steps ? 0.5 : 1) * Math.Exp(p.LogDensity(i * h)) * h;
            double share = xs.Count(x => x < edge) / (double)xs.Length;
            Assert.True(Math.Abs(share - mass) < SampledShareTolerance, $"below {edge}: density mass {mass:F3}, sampled share {share:F3}");
        }
        // The points pull mass towards 0: well above the uniform quarter.
        Assert.True(xs.Count(x => x < 0.25) > 0.4 * xs.Length);
    }

    [Fact]
    public void NormalCdfMatchesKnownValues()
    {
        Assert.Equal(0.5, ParzenEstimator.NormalCdf(0), 1e-7);
        Assert.Equal(0.8413447461, ParzenEstimator.NormalCdf(1), 1e-6);
        Assert.Equal(0.0227501319, ParzenEstimator.NormalCdf(-2), 1e-6);
    }
}
