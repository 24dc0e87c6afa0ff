namespace TransferKit.FineTune.Tuning;

/// <summary>
/// A one-dimensional Parzen density on [low, high]: a weighted mixture of Gaussians truncated to the interval, one
/// centred on each observed point plus a broad prior component (centre of the interval, σ = its width). Each point's
/// bandwidth is the larger gap to its neighbours among the sorted points and the prior's centre (the interval's ends
/// bound the first and last), clipped to [width / min(100, n + 1), width] — the adaptive Parzen estimator of
/// Bergstra et al. (2011), section 4. The tree-structured Parzen estimator works with these in log space.
/// </summary>
public sealed class ParzenEstimator
{
    readonly double[] _mu, _sigma, _logWeight, _logMass, _cumulative;

    ParzenEstimator(double low, double high, double[] mu, double[] sigma, double[] weight)
    {
        Low = low; High = high;
        _mu = mu; _sigma = sigma;
        double total = weight.Sum();
        _logWeight = weight.Select(w => Math.Log(w / total)).ToArray();
        // The share of each component's mass that falls inside [low, high] (its truncation constant).
        _logMass = mu.Select((m, i) => Math.Log(Math.Max(NormalCdf((high - m) / sigma[i]) - NormalCdf((low - m) / sigma[i]), 1e-300))).ToArray();
        _cumulative = new double[weight.Length];
        double run = 0;
        for (int i = 0; i < weight.Length; i++) _cumulative[i] = run += weight[i] / total;
    }

    public double Low { get; }
    public double High { get; }

    /// <summary>Component centres, the prior's first.</summary>
    public IReadOnlyList<double> Centres => _mu;

    /// <summary>Component bandwidths, the prior's first.</summary>
    public IReadOnlyList<double> Bandwidths => _sigma;

    /// <summary>Fits the mixture to <paramref name="points"/> (clamped into the interval); the prior counts as <paramref name="priorWeight"/> points.</summary>
    public static ParzenEstimator Fit(IReadOnlyList<double> points, double low, double high, double priorWeight = 1)
    {
        if (!(high > low)) throw new ArgumentException($"A Parzen estimator needs low < high, got [{low}, {high}].");
        if (!(priorWeight > 0)) throw new ArgumentException("The prior's weight must be positive.");
        double width = high - low, prior = (low + high) / 2;
        var xs = points.Select(p => Math.Clamp(p, low, high)).ToArray();
        // Neighbours are taken among the points and the prior's centre, sorted.
        var all = xs.Append(prior).Order().ToArray();
        double minSigma = width / Math.Min(100, xs.Length + 1);
        var mu = new double[xs.Length + 1];
        var sigma = new double[xs.Length + 1];
        var weight = new double[xs.Length + 1];
        mu[0] = prior; sigma[0] = width; weight[0] = priorWeight;
        for (int i = 0; i < xs.Length; i++)
        {
            int j = Array.BinarySearch(all, xs[i]);
            double left = j > 0 ? all[j] - all[j - 1] : all[j] - low;
            double right = j < all.Length - 1 ? all[j + 1] - all[j] : high - all[j];
            mu[i + 1] = xs[i];
            sigma[i + 1] = Math.Clamp(Math.Max(left, right), minSigma, width);
            weight[i + 1] = 1;
        }
        return new ParzenEstimator(low, high, mu, sigma, weight);
    }

    /// <summary>log p(x): log-sum-exp over the components of log w + log N(x; μ, σ) − log(mass inside the interval).</summary>
    public double LogDensity(double x)
    {
        if (x < Low || x > High) return double.NegativeInfinity;
        double max = double.NegativeInfinity;
        Span<double> terms = _mu.Length <= 256 ? stackalloc double[_mu.Length] : new double[_mu.Length];
        for (int i = 0; i < _mu.Length; i++)
        {
            double z = (x - _mu[i]) / _sigma[i];
            terms[i] = _logWeight[i] - 0.5 * z * z - Math.Log(_sigma[i] * Math.Sqrt(2 * Math.PI)) - _logMass[i];
            max = Math.Max(max, terms[i]);
        }
        double sum = 0;
        foreach (var t in terms) sum += Math.Exp(t - max);
        return max + Math.Log(sum);
    }

    /// <summary>A draw: a component by weight, then its Gaussian truncated to the interval (by rejection).</summary>
    public double Sample(Random random)
    {
        double u = random.NextDouble();
        int k = Array.FindIndex(_cumulative, c => u < c);
        if (k < 0) k = _cumulative.Length - 1;
        // Centres lie inside the interval and σ ≤ its width, so at least a third of each component's mass is inside.
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            double x = _mu[k] + _sigma[k] * StandardNormal(random);
            if (x >= Low && x <= High) return x;
        }
        return Math.Clamp(_mu[k], Low, High);
    }

    /// <summary>Box–Muller.</summary>
    static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Φ(z) = ½·erfc(−z/√2), with erf from Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).</summary>
    public static double NormalCdf(double z)
    {
        double x = Math.Abs(z) / Math.Sqrt(2);
        double t = 1 / (1 + 0.3275911 * x);
        double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }
}
