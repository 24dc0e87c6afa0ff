using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Ops;

/// <summary>Batch statistics of the training forward pass against the two-pass definition in double.</summary>
public class BatchNormalizationTests
{
    /// <summary>Allowed relative error of the batch mean and variance (float sums of a few hundred values, against double).</summary>
    const double StatisticsTolerance = 1e-5;

    /// <summary>
    /// Channels whose mean dwarfs their spread (1e4 ± 1), whose first image sits apart from the rest (the shift the
    /// one-pass sums take is the first plane's mean), and a plain one: with momentum 0 the running statistics become
    /// the batch's, which must equal the two-pass mean and biased variance in double of the same values.
    /// </summary>
    [Fact]
    public void BatchStatisticsKeepTheirDigitsWhenTheMeanDwarfsTheSpread()
    {
        int n = 5, c = 3, plane = 37;
        var rng = new Random(3);
        var x = new Tensor([n, c, plane]);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < plane; i++)
                {
                    double v = rng.NextDouble() * 2 - 1;
                    x.Span[(b * c + ch) * plane + i] = (float)(ch switch { 0 => 1e4 + v, 1 => (b == 0 ? 30 : -30) + v, _ => v });
                }
        var ones = new Tensor([c], [1f, 1f, 1f]);
        var runMean = new Tensor([c]); var runVar = ones.Clone();
        var op = new BatchNormalizationOp(0f, 0f);
        op.Forward(new OpContext { Inputs = [x, ones, new Tensor([c]), runMean, runVar], Outputs = [new Tensor([n, c, plane])], Training = true });
        for (int ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n).SelectMany(b => Enumerable.Range(0, plane).Select(i => (double)x.Span[(b * c + ch) * plane + i])).ToArray();
            double mean = values.Average(), variance = values.Select(v => (v - mean) * (v - mean)).Average();
            Assert.True(Math.Abs(runMean.Span[ch] - mean) <= StatisticsTolerance * Math.Max(1, Math.Abs(mean)), $"channel {ch}: mean {runMean.Span[ch]:G9}, expected {mean:G9}");
            Assert.True(Math.Abs(runVar.Span[ch] - variance) <= StatisticsTolerance * variance, $"channel {ch}: variance {runVar.Span[ch]:G9}, expected {variance:G9}");
        }
    }
}
