namespace TransferKit.FineTune.Tuning;

/// <summary>
/// Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for hyper-parameter
/// optimization", NeurIPS 2011). After <see cref="StartupTrials"/> random draws, the finished trials are ranked best
/// first and split at the quantile <see cref="Gamma"/> into a good set and a bad set. For each dimension on its own,
/// a density l(x) is fitted to the good trials' values and g(x) to the bad ones' — adaptive Parzen mixtures of
/// truncated Gaussians in log space for log-uniform numbers (<see cref="ParzenEstimator"/>), counts smoothed by
/// <see cref="PriorWeight"/> per choice for categoricals — then <see cref="Candidates"/> values are drawn from l and
/// the one with the largest l(x)/g(x) is proposed (that ratio orders points as expected improvement does).
/// </summary>
public sealed class TpeSampler : ISampler
{
    readonly SearchSpace _space;
    readonly Random _random;

    public TpeSampler(SearchSpace space, int seed, int startupTrials = 10, double gamma = 0.25, int candidates = 24, double priorWeight = 1)
    {
        if (startupTrials < 2) throw new ArgumentException("TPE needs at least two random start-up trials to split into good and bad.");
        if (!(gamma > 0 && gamma < 1)) throw new ArgumentException($"TPE's gamma must lie strictly between 0 and 1, got {gamma}.");
        if (candidates < 1) throw new ArgumentException("TPE needs at least one candidate per proposal.");
        _space = space;
        _random = new Random(seed);
        StartupTrials = startupTrials; Gamma = gamma; Candidates = candidates; PriorWeight = priorWeight;
    }

    public int StartupTrials { get; }
    public double Gamma { get; }
    public int Candidates { get; }
    public double PriorWeight { get; }

    public Configuration? Next(IReadOnlyList<Observation> history)
    {
        if (history.Count < StartupTrials) return _space.Sample(_random);
        var ranked = Observation.BestFirst(history);
        int goodCount = Math.Clamp((int)Math.Ceiling(Gamma * ranked.Count), 1, ranked.Count - 1);
        var good = ranked.Take(goodCount).Select(o => o.Configuration).ToArray();
        var bad = ranked.Skip(goodCount).Select(o => o.Configuration).ToArray();
        var numbers = new Dictionary<string, double>();
        var choices = new Dictionary<string, string>();
        foreach (var d in _space.Dimensions)
        {
            switch (d)
            {
                case LogUniformDimension u: numbers[d.Name] = u.IsFixed ? u.Low : ProposeNumber(u, good, bad); break;
                case CategoricalDimension c: choices[d.Name] = c.IsFixed ? c.Choices[0] : ProposeChoice(c, good, bad); break;
                default: throw new NotSupportedException($"Dimension type {d.GetType().Name} is not supported.");
            }
        }
        return new Configuration(numbers, choices);
    }

    double ProposeNumber(LogUniformDimension d, Configuration[] good, Configuration[] bad)
    {
        double low = Math.Log(d.Low), high = Math.Log(d.High);
        IReadOnlyList<double> LogValues(Configuration[] set) =>
            set.Where(c => c.Numbers.ContainsKey(d.Name)).Select(c => Math.Log(Math.Max(c.Number(d.Name), d.Low))).ToArray();
        var l = ParzenEstimator.Fit(LogValues(good), low, high, PriorWeight);
        var g = ParzenEstimator.Fit(LogValues(bad), low, high, PriorWeight);
        double best = double.NaN, bestRatio = double.NegativeInfinity;
        for (int i = 0; i < Candidates; i++)
        {
            double x = l.Sample(_random);
            double ratio = l.LogDensity(x) - g.LogDensity(x);
            if (ratio > bestRatio || double.IsNaN(best)) { best = x; bestRatio = ratio; }
        }
        return Math.Clamp(Math.Exp(best), d.Low, d.High);
    }

    string ProposeChoice(CategoricalDimension d, Configuration[] good, Configuration[] bad)
    {
        double[] Smoothed(Configuration[] set)
        {
            var w = Enumerable.Repeat(PriorWeight, d.Choices.Count).ToArray();
            foreach (var c in set)
                if (c.Choices.TryGetValue(d.Name, out var s) && d.IndexOf(s) is var k and >= 0) w[k] += 1;
            double total = w.Sum();
            return w.Select(x => x / total).ToArray();
        }
        var l = Smoothed(good);
        var g = Smoothed(bad);
        int best = -1;
        double bestRatio = double.NegativeInfinity;
        for (int i = 0; i < Candidates; i++)
        {
            double u = _random.NextDouble(), run = 0;
            int k = 0;
            while (k < l.Length - 1 && u >= (run += l[k])) k++;
            double ratio = Math.Log(l[k]) - Math.Log(g[k]);
            if (ratio > bestRatio) { best = k; bestRatio = ratio; }
        }
        return d.Choices[best];
    }
}
