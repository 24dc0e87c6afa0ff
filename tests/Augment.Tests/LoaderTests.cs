using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.Tests.Common;

namespace TransferKit.Augment.Tests;

/// <summary>Tests that measure process-wide allocation run alone.</summary>
[CollectionDefinition(nameof(SerialCollection), DisableParallelization = true)]
public sealed class SerialCollection;

public class LoaderTests
{
    static TransformPipeline Training(int size) => AugmentLevels.Get("strong", size, Preprocessing.TorchvisionImageNet);

    static List<(float[] Images, int[] Labels, int[] Indices)> Collect(ImageDataset data, TransformPipeline p, int threads, int prefetch, int epoch = 0, ulong seed = 7)
    {
        using var loader = new DataLoader(data, p, new DataLoaderOptions { BatchSize = 8, Threads = threads, Prefetch = prefetch, Seed = seed });
        return loader.Epoch(epoch).Select(b => (b.Images.Span.ToArray(), b.LabelSpan.ToArray(), b.SampleIndices.AsSpan(0, b.Count).ToArray())).ToList();
    }

    static ImageDataset Hymenoptera(int take)
    {
        var all = ImageFolderDataset.FromFolder(SharedAssets.Dataset("hymenoptera_data/train"));
        // An even spread over both classes, including the GIF and the file with a space.
        return all.Split(1 - (double)take / all.Count, 3).Train;
    }

    [Fact]
    public void SameSeedGivesBitwiseIdenticalBatchesForAnyThreadsAndPrefetch()
    {
        var data = Hymenoptera(40);
        var p = Training(64);
        var a = Collect(data, p, threads: 1, prefetch: 1);
        var b = Collect(data, p, threads: 2, prefetch: 4);
        var c = Collect(data, p, threads: 2, prefetch: 1);
        var d = Collect(data, p, threads: 1, prefetch: 4);
        Assert.True(a.Count >= 5);
        foreach (var other in new[] { b, c, d })
        {
            Assert.Equal(a.Count, other.Count);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.Equal(a[i].Labels, other[i].Labels);
                Assert.Equal(a[i].Indices, other[i].Indices);
                Assert.True(a[i].Images.AsSpan().SequenceEqual(other[i].Images), $"batch {i} differs");
            }
        }
    }

    [Fact]
    public void DecodedImageCacheChangesNothingButTheWork()
    {
        var data = Hymenoptera(24);
        var p = Training(64);
        using var cached = new DataLoader(data, p, new DataLoaderOptions { BatchSize = 8, Threads = 2, Seed = 7, DecodeCacheMegabytes = 64 });
        using var uncached = new DataLoader(data, p, new DataLoaderOptions { BatchSize = 8, Threads = 2, Seed = 7, DecodeCacheMegabytes = 0 });
        Assert.Null(uncached.Cache);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var a = cached.Epoch(epoch).Select(b => b.Images.Span.ToArray()).ToList();
            var b = uncached.Epoch(epoch).Select(b => b.Images.Span.ToArray()).ToList();
            Assert.Equal(a.Count, b.Count);
            for (int i = 0; i < a.Count; i++) Assert.True(a[i].AsSpan().SequenceEqual(b[i]), $"epoch {epoch} batch {i} differs");
            Assert.Equal(data.Count, cached.Cache!.Count); // every image kept after the first epoch
        }
        Assert.InRange(cached.Cache!.Bytes, 1, cached.Cache.BudgetBytes);
        // A budget smaller than one image keeps nothing and still loads everything.
        using var tiny = new DataLoader(data, p, new DataLoaderOptions { BatchSize = 8, Threads = 2, Seed = 7, DecodeCacheMegabytes = 1 });
        Assert.Equal(data.Count, tiny.Epoch(0).Sum(b => b.Count));
        Assert.True(tiny.Cache!.Bytes <= 1 << 20);
    }

    [Fact]
    public void DifferentSeedsAndEpochsGiveDifferentBatches()
    {
        var data = Hymenoptera(16);
        var p = Training(32);
        var a = Collect(data, p, 2, 2, epoch: 0, seed: 1);
        var b = Collect(data, p, 2, 2, epoch: 1, seed: 1);
        var c = Collect(data, p, 2, 2, epoch: 0, seed: 2);
        Assert.False(a[0].Images.AsSpan().SequenceEqual(b[0].Images));
        Assert.False(a[0].Images.AsSpan().SequenceEqual(c[0].Images));
    }

    [Fact]
    public void BatchesAreNchwWithLabelsAndEveryImageOnce()
    {
        var data = Hymenoptera(30);
        using var loader = new DataLoader(data, Preprocessing.CaffeImageNet.EvaluationPipeline(),
            new DataLoaderOptions { BatchSize = 8, Threads = 2, Prefetch = 2, Shuffle = true, Seed = 1 });
        var seen = new List<int>();
        foreach (var batch in loader.Epoch(0))
        {
            Assert.Equal(new[] { batch.Count, 3, 224, 224 }, batch.Images.ShapeArray);
            for (int i = 0; i < batch.Count; i++)
            {
                Assert.Equal(data.GetLabel(batch.SampleIndices[i]), batch.Labels[i]);
                seen.Add(batch.SampleIndices[i]);
            }
        }
        seen.Sort();
        Assert.Equal(Enumerable.Range(0, data.Count), seen);
        Assert.Equal(data.Count, loader.Summary.Loaded);
        Assert.Equal(0, loader.Summary.SkippedCount);
    }

    [Fact]
    public void StoppingEarlyThenRunningAnotherEpochWorks()
    {
        var data = Hymenoptera(40);
        using var loader = new DataLoader(data, Training(32), new DataLoaderOptions { BatchSize = 4, Threads = 2, Prefetch = 3, Seed = 1 });
        var first = loader.Epoch(0).Take(2).Select(b => b.Images.Span.ToArray()).ToList();
        Assert.Equal(2, first.Count);
        var full = loader.Epoch(0).Select(b => b.Images.Span.ToArray()).ToList();
        Assert.Equal(10, full.Count);
        Assert.True(first[1].AsSpan().SequenceEqual(full[1]));
    }

    [Fact]
    public void AWorkerFailureSurfacesToTheConsumer()
    {
        var csv = CsvPixelDataset.Load(SharedAssets.Dataset("sklearn-digits/digits.csv.gz"), 8, 8, 1, 16).Take(20);
        var broken = new TransformPipeline(new Resize(8, 8), new Grayscale(1), new ColorJitter(0.5));
        using var loader = new DataLoader(csv, broken, new DataLoaderOptions { BatchSize = 4, Threads = 2 });
        var e = Assert.Throws<InvalidOperationException>(() => loader.Epoch(0).ToList());
        Assert.Contains("ColorJitter needs 3 channels", e.Message);
    }

    [Fact]
    public void APipelineWithoutAFixedSizeIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(Hymenoptera(4), TransformPipeline.Parse("Resize(64)")));
        Assert.Contains("does not fix the output size", e.Message);
    }
}

[Collection(nameof(SerialCollection))]
public class RingTests
{
    [Fact]
    public void SteadyStateReusesTheRing() => Run();

    internal static void Run()
    {
        var csv = CsvPixelDataset.Load(SharedAssets.Dataset("sklearn-digits/digits.csv.gz"), 8, 8, 1, 16).Take(400);
        const int prefetch = 2;
        using var loader = new DataLoader(csv, Preprocessing.Mnist.EvaluationPipeline(),
            new DataLoaderOptions { BatchSize = 16, Threads = 2, Prefetch = prefetch });
        var buffers = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        long before = 0, after = 0;
        int n = 0;
        foreach (var batch in loader.Epoch(0))
        {
            buffers.Add(batch.Images.Data);
            if (n == 5) before = GC.GetTotalAllocatedBytes(true);
            if (n == 20) after = GC.GetTotalAllocatedBytes(true);
            n++;
        }
        Assert.Equal(25, n);
        Assert.Equal(prefetch + 1, buffers.Count);
        // One batch buffer is 16·28·28·4 bytes = 50 KB; steady state must allocate far less than a buffer per batch.
        long perBatch = (after - before) / 15;
        Assert.True(perBatch < 16 * 28 * 28 * 4 / 4, $"{perBatch} bytes allocated per batch");
    }
}

public class LoaderBenchmarkTests
{
    [Fact]
    public void BenchmarkCountsEveryImageOfTheTimedEpochs()
    {
        var csv = CsvPixelDataset.Load(SharedAssets.Dataset("sklearn-digits/digits.csv.gz"), 8, 8, 1, 16).Take(100);
        var r = LoaderBenchmark.Run(csv, Preprocessing.Mnist.EvaluationPipeline(), threads: 2, batchSize: 16, epochs: 2);
        Assert.Equal(200, r.Images);
        Assert.True(r.Seconds > 0 && r.ImagesPerSecond > 0 && r.CpuSeconds > 0);
        Assert.Equal(0, r.Skipped);
    }
}
