using TransferKit.FineTune.Tuning;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary>Grid, random and TPE samplers on synthetic spaces and objectives (no training).</summary>
public class SamplerTests
{
    /// <summary>Seeds averaged over when comparing TPE with random search.</summary>
    const int Seeds = 12;
    /// <summary>Trials per search in that comparison (the first ten are TPE's random start-up).</summary>
    const int Budget = 30;

    static SearchSpace MixedSpace() => new([
        new LogUniformDimension("lr", 1e-5, 1e-1),
        new LogUniformDimension("weight-decay", 1e-6, 1e-2),
        new CategoricalDimension("batch", ["16", "32", "64"]),
        new CategoricalDimension("augment", ["none", "light"]),
    ]);

    [Fact]
    public void GridEnumeratesTheWholeProductOnce()
    {
        var space = MixedSpace();
        var grid = new GridSampler(space, pointsPerRange: 4);
        Assert.Equal(4 * 4 * 3 * 2, grid.Size);
        var seen = new List<Configuration>();
        while (grid.Next([]) is { } c) seen.Add(c);
        Assert.Equal(grid.Size, seen.Count);
        Assert.Null(grid.Next([]));
        var keys = seen.Select(c => c.Describe(space)).ToHashSet();
        Assert.Equal(seen.Count, keys.Count);
        // Every combination of the axes' values is there: the log-spaced ends included.
        var lrs = seen.Select(c => c.Number("lr")).Distinct().Order().ToArray();
        Assert.Equal(4, lrs.Length);
        Assert.Equal(1e-5, lrs[0], 1e-12);
        Assert.Equal(1e-1, lrs[^1], 1e-12);
        Assert.Equal(Math.Log10(lrs[1]) - Math.Log10(lrs[0]), Math.Log10(lrs[2]) - Math.Log10(lrs[1]), 1e-9);
        foreach (var lr in lrs)
            foreach (var batch in new[] { "16", "32", "64" })
                foreach (var augment in new[] { "none", "light" })
                    Assert.Equal(4, seen.Count(c => c.Number("lr") == lr && c.Choice("batch") == batch && c.Choice("augment") == augment));
        // The last dimension changes fastest.
        Assert.Equal("none", seen[0].Choice("augment"));
        Assert.Equal("light", seen[1].Choice("augment"));
        Assert.Equal(seen[0].Number("lr"), seen[1].Number("lr"));
    }

    [Fact]
    public void GridOfAFixedRangeHasOneValue()
    {
        var grid = new GridSampler(new SearchSpace([new LogUniformDimension("lr", 3e-3, 3e-3), new CategoricalDimension("batch", ["8", "16"])]));
        Assert.Equal(2, grid.Size);
        Assert.Equal(3e-3, grid.At(1).Number("lr"));
    }

    [Fact]
    public void RandomIsSeededAndStaysInsideTheRanges()
    {
        var space = MixedSpace();
        string Sequence(int seed)
        {
            var s = new RandomSampler(space, seed);
            return string.Join("|", Enumerable.Range(0, 20).Select(_ => s.Next([])!.Describe(space)));
        }
        Assert.Equal(Sequence(7), Sequence(7));
        Assert.NotEqual(Sequence(7), Sequence(8));

        var sampler = new RandomSampler(space, 1);
        var draws = Enumerable.Range(0, 2000).Select(_ => sampler.Next([])!).ToArray();
        Assert.All(draws, c => Assert.True(c.IsInside(space), c.Describe(space)));
        // Log-uniform: about half the draws fall below the geometric mean of the ends (a linear draw would put ~1 % there).
        double below = draws.Count(c => c.Number("lr") < 1e-3) / (double)draws.Length;
        Assert.InRange(below, 0.45, 0.55);
        foreach (var batch in new[] { "16", "32", "64" })
            Assert.InRange(draws.Count(c => c.Choice("batch") == batch) / (double)draws.Length, 0.28, 0.39);
    }

    /// <summary>The smooth synthetic objective: best at lr = 10^−2.5 and weight decay 10^−4, a bonus for augment = light.</summary>
    static double Objective(Configuration c) =>
        -Math.Pow(Math.Log10(c.Number("lr")) + 2.5, 2)
        - (c.Numbers.ContainsKey("weight-decay") ? Math.Pow(Math.Log10(c.Number("weight-decay")) + 4, 2) : 0)
        - (c.Choices.TryGetValue("augment", out var a) && a != "light" ? 1 : 0);

    static (double Best, List<Configuration> Proposals) Search(ISampler sampler, int budget)
    {
        var history = new List<Observation>();
        var proposals = new List<Configuration>();
        for (int i = 0; i < budget; i++)
        {
            var c = sampler.Next(history)!;
            proposals.Add(c);
            history.Add(new Observation(c, TrialStatus.Complete, Objective(c)));
        }
        return (history.Max(o => o.Score), proposals);
    }

    [Fact]
    public void TpeBeatsRandomOnAOneDimensionalObjective()
    {
        var space = new SearchSpace([new LogUniformDimension("lr", 1e-5, 1e-1)]);
        double tpe = 0, random = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            tpe += Search(new TpeSampler(space, seed, startupTrials: 10), Budget).Best / Seeds;
            random += Search(new RandomSampler(space, seed), Budget).Best / Seeds;
        }
        // Both are ≤ 0 (the optimum); TPE's average shortfall must be clearly smaller.
        Assert.True(tpe > random, $"TPE mean best {tpe:G4}, random {random:G4}");
        Assert.True(-tpe < -random / 2, $"TPE mean shortfall {-tpe:G4} is not under half of random's {-random:G4}");
    }

    [Fact]
    public void TpeBeatsRandomOnAMixedSpaceAndFavoursTheBetterChoice()
    {
        var space = MixedSpace();
        double tpe = 0, random = 0;
        int light = 0, proposed = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            var (best, proposals) = Search(new TpeSampler(space, seed, startupTrials: 10), Budget);
            tpe += best / Seeds;
            random += Search(new RandomSampler(space, seed), Budget).Best / Seeds;
            Assert.All(proposals, c => Assert.True(c.IsInside(space), c.Describe(space)));
            foreach (var c in proposals.Skip(10)) { proposed++; if (c.Choice("augment") == "light") light++; }
        }
        Assert.True(-tpe < 0.8 * -random, $"TPE mean shortfall {-tpe:G4} is not clearly under random's {-random:G4}");
        // Uniform choice would pick "light" half the time; the good set is mostly "light", so TPE should pick it far more often.
        Assert.True(light > 0.75 * proposed, $"TPE chose augment=light in {light} of {proposed} model-based proposals");
    }

    [Fact]
    public void TpeStartsRandomAndIsSeeded()
    {
        var space = MixedSpace();
        var a = Search(new TpeSampler(space, 3, startupTrials: 5), 15).Proposals.Select(c => c.Describe(space)).ToArray();
        var b = Search(new TpeSampler(space, 3, startupTrials: 5), 15).Proposals.Select(c => c.Describe(space)).ToArray();
        Assert.Equal(a, b);
        // The start-up draws are the random sampler's with the same seed.
        var random = new RandomSampler(space, 3);
        for (int i = 0; i < 5; i++) Assert.Equal(random.Next([])!.Describe(space), a[i]);
        Assert.Throws<ArgumentException>(() => new TpeSampler(space, 0, startupTrials: 1));
        Assert.Throws<ArgumentException>(() => new TpeSampler(space, 0, gamma: 1));
    }

    [Fact]
    public void TpeCountsPrunedAndFailedTrialsAsBad()
    {
        var space = new SearchSpace([new CategoricalDimension("freeze-depth", ["0", "1", "all"])]);
        var history = new List<Observation>();
        // "all" always fails, "1" is pruned with a high partial score, "0" completes with a modest one.
        for (int i = 0; i < 4; i++)
        {
            history.Add(new Observation(Choice("all"), TrialStatus.Failed, double.NaN));
            history.Add(new Observation(Choice("1"), TrialStatus.Pruned, 0.9));
            history.Add(new Observation(Choice("0"), TrialStatus.Complete, 0.5));
        }
        var tpe = new TpeSampler(space, 0, startupTrials: 2);
        var picks = Enumerable.Range(0, 20).Select(_ => tpe.Next(history)!.Choice("freeze-depth")).ToArray();
        Assert.All(picks, p => Assert.Equal("0", p));

        static Configuration Choice(string v) => new(new Dictionary<string, double>(), new Dictionary<string, string> { ["freeze-depth"] = v });
    }
}
