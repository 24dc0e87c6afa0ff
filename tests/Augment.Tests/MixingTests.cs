using TransferKit.Augment.Mixing;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Tests;

/// <summary>Mixup and CutMix of a batch, and the Beta draws behind them.</summary>
public class MixingTests
{
    /// <summary>Float mixing of two values (λ·x + (1 − λ)·y in single precision).</summary>
    const float MixTolerance = 1e-5f;

    /// <summary>Allowed gap between a sample mean of <see cref="Draws"/> Beta draws and a/(a+b) (several standard errors).</summary>
    const double MeanTolerance = 0.01;
    const int Draws = 20000;

    /// <summary>A batch whose every value names its image: image i holds i + 1 everywhere.</summary>
    static float[] Batch(int n, int c, int h, int w)
    {
        var x = new float[n * c * h * w];
        for (int i = 0; i < n; i++) x.AsSpan(i * c * h * w, c * h * w).Fill(i + 1);
        return x;
    }

    [Theory]
    [InlineData(0.5, 0.5)]
    [InlineData(0.2, 0.2)]
    [InlineData(2.0, 5.0)]
    public void BetaDrawsHaveTheBetaMean(double a, double b)
    {
        var rng = new CounterRng(7, 0, 0, 1);
        double sum = 0;
        for (int k = 0; k < Draws; k++)
        {
            double v = rng.NextBeta(a, b);
            Assert.InRange(v, 0, 1);
            sum += v;
        }
        Assert.True(Math.Abs(sum / Draws - a / (a + b)) < MeanTolerance, $"Beta({a}, {b}) mean {sum / Draws:F4}, expected {a / (a + b):F4}");
    }

    [Fact]
    public void MixupBlendsEveryImageWithItsPartnerByLambda()
    {
        int[] shape = [6, 2, 3, 4];
        var x = Batch(6, 2, 3, 4);
        int[] labels = [0, 1, 2, 0, 1, 2];
        var t = new BatchMixer(new BatchMixing(0.4f, 0), 5).Mix(x, shape, labels, step: 3);
        Assert.Equal("mixup", t.Kind);
        Assert.InRange(t.Lambda, 0, 1);
        Assert.Equal(labels, t.LabelsA);
        int image = 2 * 3 * 4;
        for (int i = 0; i < 6; i++)
        {
            // Image i was i + 1 everywhere, its partner p + 1 with labels[p] = LabelsB[i].
            float v = x[i * image];
            float partner = (v - t.Lambda * (i + 1)) / (1 - t.Lambda) - 1;
            int p = (int)MathF.Round(partner);
            Assert.True(Math.Abs(partner - p) < 1e-3, $"row {i}: {v} is not a blend of {i + 1} with another image");
            Assert.Equal(labels[p], t.LabelsB[i]);
            for (int k = 0; k < image; k++) Assert.True(Math.Abs(x[i * image + k] - v) < MixTolerance);
        }
    }

    [Fact]
    public void CutMixPastesABoxAndLambdaIsTheShareLeft()
    {
        int[] shape = [4, 3, 16, 20];
        int image = 3 * 16 * 20, plane = 16 * 20;
        int[] labels = [0, 1, 2, 3];
        bool sawBox = false;
        for (long step = 0; step < 12; step++)
        {
            var x = Batch(4, 3, 16, 20);
            var t = new BatchMixer(new BatchMixing(0, 1f), 9).Mix(x, shape, labels, step);
            Assert.Equal("cutmix", t.Kind);
            for (int i = 0; i < 4; i++)
            {
                int own = 0;
                for (int k = 0; k < plane; k++) if (x[i * image + k] == i + 1) own++;
                // Pixels come from the image itself or from one partner, the same box in every channel.
                for (int k = 0; k < image; k++) Assert.True(x[i * image + k] == i + 1 || x[i * image + k] == labels.IndexOf(t.LabelsB[i]) + 1);
                if (t.LabelsB[i] != labels[i]) Assert.Equal(t.Lambda, own / (float)plane, 5);
                if (own < plane) sawBox = true;
            }
        }
        Assert.True(sawBox, "no box was pasted in twelve batches");
    }

    [Fact]
    public void TheSameStepMixesTheSameWayAndAnotherStepDifferently()
    {
        int[] shape = [8, 1, 4, 4];
        int[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        var mixing = new BatchMixing(0.2f, 1f);
        var a = Batch(8, 1, 4, 4); var b = Batch(8, 1, 4, 4); var c = Batch(8, 1, 4, 4);
        var ta = new BatchMixer(mixing, 1).Mix(a, shape, labels, 10);
        var tb = new BatchMixer(mixing, 1).Mix(b, shape, labels, 10);
        var tc = new BatchMixer(mixing, 1).Mix(c, shape, labels, 11);
        Assert.Equal(a, b);
        Assert.Equal(ta, tb with { LabelsA = ta.LabelsA, LabelsB = ta.LabelsB });
        Assert.Equal(ta.LabelsB, tb.LabelsB);
        Assert.False(a.AsSpan().SequenceEqual(c) && ta.Lambda == tc.Lambda);
    }

    [Fact]
    public void ABatchThatIsNotNchwIsRefused() =>
        Assert.Throws<ArgumentException>(() => new BatchMixer(new BatchMixing(0.2f, 0), 0).Mix(new float[6], [2, 3], [0, 1], 0));
}
