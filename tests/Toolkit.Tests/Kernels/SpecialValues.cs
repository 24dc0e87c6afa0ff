namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Test inputs for elementwise kernels: seeded random values with special ones among them.</summary>
static class SpecialValues
{
    /// <summary>
    /// n values: a quarter (on average) drawn from <paramref name="special"/>, the rest uniform in [<paramref name="low"/>,
    /// <paramref name="low"/> + 16), from the seed.
    /// </summary>
    public static float[] Mixed(int n, int seed, float[] special, float low)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(4) == 0 ? special[rng.Next(special.Length)] : (float)(rng.NextDouble() * 16 + low)).ToArray();
    }
}
