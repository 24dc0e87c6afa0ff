namespace TransferKit.Augment.Loading;

/// <summary>How a <see cref="DataLoader"/> batches, shuffles and parallelises.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Worker threads decoding and augmenting.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Batches prepared ahead of the one the consumer holds (the ring has Prefetch + 1 buffers).</summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Seed of the shuffle and of every random transform.</summary>
    public ulong Seed { get; init; }

    /// <summary>Visit the samples in a fresh seeded order each epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Default of <see cref="DecodeCacheMegabytes"/>.</summary>
    public const int DefaultDecodeCacheMegabytes = 256;

    /// <summary>
    /// Decoded images kept across epochs and views, in MB of pixels (<see cref="DecodedImageCache"/>); 0 decodes every
    /// sample from its file.
    /// </summary>
    public int DecodeCacheMegabytes { get; init; } = DefaultDecodeCacheMegabytes;

    /// <summary>A decoded-image cache to use instead of a new one of <see cref="DecodeCacheMegabytes"/>: loaders of
    /// several views of the same images (test-time augmentation) then decode each image once.</summary>
    public DecodedImageCache? DecodeCache { get; init; }

    /// <summary>Leave out the last batch when it would be smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }
}
