using TransferKit.FineTune.Tuning;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary>Early stopping of poor trials on synthetic accuracy curves.</summary>
public class PrunerTests
{
    static readonly IReadOnlyList<double>[] Earlier =
    [
        [0.50, 0.60, 0.70],
        [0.40, 0.55, 0.60],
        [0.60, 0.70, 0.80],
    ];

    [Fact]
    public void MedianRuleStopsTrialsBelowTheMedianAtTheSameEpoch()
    {
        var rule = new MedianStoppingRule(minTrials: 3);
        // Epoch 1: the earlier best-so-far values are 0.4, 0.5, 0.6, median 0.5.
        Assert.True(rule.ShouldStop([0.45], Earlier));
        Assert.False(rule.ShouldStop([0.50], Earlier)); // strictly below only
        Assert.False(rule.ShouldStop([0.55], Earlier));
        // Epoch 2: median 0.6.
        Assert.True(rule.ShouldStop([0.55, 0.58], Earlier));
        Assert.False(rule.ShouldStop([0.55, 0.61], Earlier));
        // The best so far counts: a dip after a good epoch does not stop a trial.
        Assert.False(rule.ShouldStop([0.65, 0.30], Earlier));
    }

    [Fact]
    public void MedianRuleWaitsForEnoughComparableTrials()
    {
        var rule = new MedianStoppingRule(minTrials: 3);
        Assert.False(rule.ShouldStop([0.0], Earlier.Take(2).ToArray()));
        // A trial stopped after one epoch counts at epoch 1 but not at epoch 2.
        IReadOnlyList<double>[] mixed = [[0.50, 0.60], [0.40, 0.55], [0.60]];
        Assert.True(rule.ShouldStop([0.1], mixed));
        Assert.False(rule.ShouldStop([0.1, 0.1], mixed));
        // Even count: the median is the mean of the middle two (0.5 and 0.6).
        IReadOnlyList<double>[] four = [[0.4], [0.5], [0.6], [0.7]];
        Assert.True(rule.ShouldStop([0.54], four));
        Assert.False(rule.ShouldStop([0.55], four));
        // Warm-up epochs are never judged.
        Assert.False(new MedianStoppingRule(minTrials: 3, warmupEpochs: 1).ShouldStop([0.0], Earlier));
        Assert.True(new MedianStoppingRule(minTrials: 3, warmupEpochs: 1).ShouldStop([0.0, 0.0], Earlier));
    }

    [Fact]
    public void MedianRuleSavesEpochsOnASyntheticSearch()
    {
        // Curves that saturate at a trial-specific level; the rule should stop the weak ones but never the best.
        var random = new Random(11);
        var levels = Enumerable.Range(0, 30).Select(_ => random.NextDouble()).ToArray();
        var rule = new MedianStoppingRule();
        var done = new List<IReadOnlyList<double>>();
        int epochs = 0;
        const int MaxEpochs = 8;
        foreach (var level in levels)
        {
            var curve = new List<double>();
            for (int e = 1; e <= MaxEpochs; e++)
            {
                curve.Add(level * (1 - Math.Exp(-e / 2.0)));
                epochs++;
                if (e < MaxEpochs && rule.ShouldStop(curve, done)) break;
            }
            done.Add(curve);
        }
        Assert.True(epochs < 0.7 * levels.Length * MaxEpochs, $"{epochs} epochs of {levels.Length * MaxEpochs}");
        int best = Array.IndexOf(levels, levels.Max());
        Assert.Equal(MaxEpochs, done[best].Count);
    }

    [Fact]
    public void SuccessiveHalvingKeepsTheTopThirdAtEachRung()
    {
        var rule = new SuccessiveHalvingRule(minEpochs: 1, reduction: 3);
        Assert.True(rule.IsRung(1));
        Assert.False(rule.IsRung(2));
        Assert.True(rule.IsRung(3));
        Assert.True(rule.IsRung(9));
        Assert.False(rule.IsRung(6));
        // Alone at a rung: goes on.
        Assert.False(rule.ShouldStop([0.1], []));
        // Two at the rung: only the better one goes on (max(1, ⌊2/3⌋) = 1).
        Assert.True(rule.ShouldStop([0.4], [[0.5]]));
        Assert.False(rule.ShouldStop([0.6], [[0.5]]));
        // Six at the rung (five earlier): the top two go on.
        IReadOnlyList<double>[] five = [[0.1], [0.2], [0.3], [0.4], [0.5]];
        Assert.False(rule.ShouldStop([0.45], five));
        Assert.True(rule.ShouldStop([0.35], five));
        // Between rungs nothing is judged.
        Assert.False(rule.ShouldStop([0.0, 0.0], [[0.9, 0.9]]));
        Assert.Throws<ArgumentException>(() => new SuccessiveHalvingRule(reduction: 1));
    }
}
