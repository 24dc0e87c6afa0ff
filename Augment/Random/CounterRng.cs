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
