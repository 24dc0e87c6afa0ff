using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Loading;

/// <summary>
/// Turns one sample into a float image: read the header, plan every geometric transform, decode, resample once
/// (through mipmaps when the plan downsamples enough), then run the tensor transforms. The result depends
/// only on (source, pipeline, seed, epoch, index), never on which thread or processor ran it.
/// Not thread-safe: one per worker. Dispose it.
/// </summary>
public sealed class SampleProcessor : IDisposable
{
    readonly Resampler _resampler = new();

    /// <summary>The limits applied to image headers.</summary>
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>Decoded images shared across epochs and views (null: decode every time).</summary>
    public DecodedImageCache? Cache { get; init; }

    /// <summary>The last result (reused by the next call).</summary>
    public SampleBuffer Output { get; } = new();

    /// <summary>
    /// Processes one sample into <see cref="Output"/>. Throws <see cref="ImageDecodeException"/> naming the file
    /// when it cannot be read.
    /// </summary>
    public SampleBuffer Process(SampleSource source, TransformPipeline pipeline, ulong seed, long epoch, long index)
    {
        EncodedImage? encoded = null;
        SourceImage? image = null, shared = null;
        try
        {
            int w, h;
            if (source.Path is { } path)
            {
                if (Cache is not null && Cache.TryGet(path, out var kept)) (shared, w, h) = (kept, kept.Width, kept.Height);
                else
                {
                    encoded = EncodedImage.Open(path, Limits);
                    (w, h) = (encoded.Header.Width, encoded.Header.Height);
                }
            }
            else (w, h) = (source.Width, source.Height);

            var geometry = new Geometry(w, h);
            var transforms = pipeline.Transforms;
            for (int i = 0; i < transforms.Count; i++)
            {
                if (transforms[i] is not GeometricTransform g) continue;
                var rng = new CounterRng(seed, epoch, index, i);
                g.Plan(ref geometry, ref rng);
            }

            if (shared is null)
            {
                image = encoded is not null
                    ? encoded.Decode(geometry)
                    : SourceImage.FromPixels(source.Pixels.Span, source.Width, source.Height, source.Channels);
                if (encoded is not null && Cache is not null) shared = Cache.TryAdd(encoded.Path, image);
            }
            Output.Reset(3, geometry.Height, geometry.Width);
            _resampler.Render(shared ?? image!, geometry.OutputToSource, geometry.Width, geometry.Height, Output.Pixels);

            for (int i = 0; i < transforms.Count; i++)
            {
                if (transforms[i] is not TensorTransform t) continue;
                var rng = new CounterRng(seed, epoch, index, i);
                t.Apply(Output, ref rng);
            }
            return Output;
        }
        finally
        {
            image?.Dispose();
            encoded?.Dispose();
        }
    }

    /// <summary>Nothing native is held since decoding moved to ImageSharp; kept so workers can scope a processor.</summary>
    public void Dispose() { }
}
