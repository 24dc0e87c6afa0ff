namespace TransferKit.FineTune.Caching;

/// <summary>How a <see cref="Training.FeatureCache"/> stores activations, in memory and on disk.</summary>
public enum FeaturePrecision
{
    /// <summary>float32: the activations exactly as the prefix computed them (4 bytes per element).</summary>
    Fp32 = 1,

    /// <summary>
    /// IEEE half (<see cref="Half"/>, 2 bytes per element): half the memory and disk; each value is rounded to the
    /// nearest half (relative error at most 2⁻¹¹ in the normal range). Values beyond ±65504 are refused.
    /// </summary>
    Fp16 = 2,
}
