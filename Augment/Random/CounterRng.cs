namespace TransferKit.Augment.Random;

/// <summary>
/// A counter-based random generator: every draw is a pure hash of a key and a counter, so a stream
/// keyed on (seed, epoch, sample index, transform index) yields the same numbers on any thread, in any order,
/// at any prefetch depth. The hash is the SplitMix64 finaliser (Steele, Lea and Flood 2014), applied to
/// <c>key + counter · φ</c>, which passes BigCrush for sequential counters.
/// </summary>
public struct CounterRng
{
    const ulong Golden = 0x9E3779B97F4A7C15UL;
    readonly ulong _key;
    ulong _counter;

    /// <summary>Creates the stream for one (seed, epoch, sample, transform) tuple.</summary>
    public CounterRng(ulong seed, long epoch, long sampleIndex, int stream)
    {
        // Chain the fields through the mixer so that nearby tuples land far apart.
        ulong k = Mix(seed ^ 0x243F6A8885A308D3UL);
        k = Mix(k ^ (ulong)epoch * Golden);
        k = Mix(k ^ (ulong)sampleIndex);
        k = Mix(k ^ ((ulong)(uint)stream | 0xA5A5_0000_0000_0000UL));
        _key = k;
        _counter = 0;
    }

    /// <summary>The SplitMix64 finaliser: a bijective 64-bit avalanche mix.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => Mix(_key + ++_counter * Golden);

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>); returns <paramref name="low"/> when the range is empty.</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>); 0 when <paramref name="maxExclusive"/> ≤ 1.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 1) return 0;
        // Lemire's multiply-shift; the bias for ranges below 2^31 is under 2^-32, irrelevant here.
        return (int)((NextUInt64() >> 32) * (ulong)maxExclusive >> 32);
    }

    /// <summary>Uniform integer in [<paramref name="low"/>, <paramref name="highExclusive"/>) like <c>torch.randint</c>.</summary>
    public int NextInt(int low, int highExclusive) => low + NextInt(highExclusive - low);

    /// <summary>True with probability <paramref name="p"/>; p ≤ 0 never, p ≥ 1 always (one draw either way).</summary>
    public bool Bernoulli(double p)
    {
        double u = NextDouble();
        return p >= 1 || u < p;
    }

    /// <summary>A standard normal draw (Box–Muller, one of the pair).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// A Gamma(<paramref name="shape"/>, 1) draw: Marsaglia and Tsang's squeeze method (2000) for shape ≥ 1, boosted by
    /// U^(1/shape) below 1.
    /// </summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0)) throw new ArgumentOutOfRangeException(nameof(shape), shape, "The Gamma shape must be positive.");
        if (shape < 1) return NextGamma(shape + 1) * Math.Pow(1.0 - NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = NextGaussian(); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>A Beta(<paramref name="a"/>, <paramref name="b"/>) draw as G_a / (G_a + G_b) of two Gamma draws.</summary>
    public double NextBeta(double a, double b)
    {
        double x = NextGamma(a), y = NextGamma(b);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    /// <summary>Fills <paramref name="order"/> with a uniform random permutation of 0..n-1 (Fisher–Yates).</summary>
    public void Permutation(Span<int> order)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
