using TransferKit.FineTune.Reporting;

namespace TransferKit.FineTune.Tests.Reporting;

public class PlotsTests
{
    [Fact]
    public void TheAccuracyAxisZoomsToTheData()
    {
        // A run between 85 % and 92 %: the axis shows that band with a margin, not 0–100.
        var (lo, hi) = Plots.PercentRange([85.2, 88.0, 91.7]);
        Assert.InRange(lo, 80, 85.2 - Plots.MinPercentMargin);
        Assert.InRange(hi, 91.7 + Plots.MinPercentMargin, 95);
        // The margin never leaves 0–100, and an empty or flat series still has a range.
        Assert.Equal((0.0, 100.0), Plots.PercentRange([0.5, 99.9]));
        Assert.Equal((0.0, 100.0), Plots.PercentRange([]));
        var (flatLo, flatHi) = Plots.PercentRange([50, 50]);
        Assert.True(flatHi - flatLo >= 2 * Plots.MinPercentMargin);
        Assert.Equal((0.0, 100.0), Plots.PercentRange([double.NaN, 0, 100]));
    }
}
