using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>
/// Activations at the frontier of a frozen, inference-mode prefix, computed once: one view per validation image and
/// K augmented views per training image (epoch e uses view e mod K, so augmentation still matters). A cache belongs
/// to one prefix (frozen weights, preprocessing, images); a new freeze plan needs a new cache.
/// </summary>
public sealed class FeatureCache
{
    readonly float[][] _features;   // [view·count + sample] → frontier activation of one sample
    public int Samples { get; }
    public int Views { get; }
    public int[] Labels { get; }
    /// <summary>Shape of one sample's frontier activation (without the batch axis).</summary>
    public int[] FeatureShape { get; }
    /// <summary>Samples with features in every view (unreadable images are left out).</summary>
    public int[] ValidSamples { get; private init; } = [];

    public long Bytes => (long)_features.Length * Shapes.ElementCount(FeatureShape) * sizeof(float);

    FeatureCache(float[][] features, int samples, int views, int[] labels, int[] shape)
    {
        _features = features; Samples = samples; Views = views; Labels = labels; FeatureShape = shape;
    }

    public ReadOnlySpan<float> Get(int view, int sample) => _features[(view % Views) * Samples + sample];

    /// <summary>Runs the prefix over <paramref name="views"/> epochs of the loader (no shuffle) and keeps each sample's frontier.</summary>
    public static FeatureCache Build(ComputeGraph prefix, ImageDataset dataset, TransformPipeline pipeline, int views, int batch, ulong seed,
        int threads, long budgetBytes, Action<int, int>? progress = null)
    {
        using var loader = new DataLoader(dataset, pipeline, new DataLoaderOptions { BatchSize = batch, Shuffle = false, Seed = seed, Threads = threads });
        var runner = new GraphRunner(prefix);
        float[][]? features = null;
        int[]? shape = null;
        var labels = new int[dataset.Count];
        int done = 0, total = views * loader.BatchesPerEpoch;
        for (int v = 0; v < views; v++)
        {
            foreach (var b in loader.Epoch(v))
            {
                var images = b.CompactImages();
                var outs = runner.PlanFor([images]).Run([images]);
                var y = outs[0];
                int per = y.Length / y.Dim(0);
                if (features == null)
                {
                    shape = y.ShapeArray[1..];
                    long need = (long)views * dataset.Count * per * sizeof(float);
                    if (need > budgetBytes)
                        throw new InsufficientMemoryException($"The feature cache needs {need / 1048576} MB for {views} views of {dataset.Count} images; the budget is {budgetBytes / 1048576} MB. Lower --cache-views or raise the budget.");
                    features = new float[views * dataset.Count][];
                }
                for (int i = 0; i < b.Count; i++)
                {
                    int sample = b.SampleIndices[i];
                    features[v * dataset.Count + sample] = y.Span.Slice(i * per, per).ToArray();
                    labels[sample] = b.Labels[i];
                }
                progress?.Invoke(++done, total);
            }
        }
        if (features == null) throw new InvalidOperationException("No images could be read for the feature cache.");
        // Samples the loader skipped (unreadable files) have no features in some view: leave them out.
        var valid = Enumerable.Range(0, dataset.Count).Where(s => Enumerable.Range(0, views).All(v => features[v * dataset.Count + s] != null)).ToArray();
        return new FeatureCache(features, dataset.Count, views, labels, shape!) { ValidSamples = valid };
    }
}
