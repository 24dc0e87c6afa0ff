using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Caching;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>
/// Activations at the frontier of a frozen, inference-mode prefix, computed once: one view per validation image and
/// K augmented views per training image (epoch e uses view e mod K, so augmentation still matters).
/// <para>
/// Records (record view·Samples + sample) are kept in memory, as float32 or half, up to a byte budget; when the whole
/// cache does not fit, every record is also written to a spill file (<see cref="FeatureCacheHeader"/>) and those
/// beyond the budget are read from it with positional reads. A spill file is named and stamped with the
/// <see cref="FeatureCacheKey"/> (frozen weights, frontier, preprocessing, seed, views, images), so a later or
/// resumed run with the same key reuses it instead of running the prefix again, and anything that changes the
/// features (a new freeze plan, other weights or preprocessing) gets a new cache. Files that do not check out are
/// rebuilt, never trusted.
/// </para>
/// </summary>
public sealed class FeatureCache : IDisposable
{
    byte[]?[] _resident;            // records [0, ResidentRecords) in storage precision; null where the loader skipped the image
    FeatureCacheFile? _file;        // every record, when the cache spills
    readonly bool[] _present;
    bool _disposed;

    /// <summary>Largest single positional read of consecutive spilled records.</summary>
    const long MaxReadBytes = 16L << 20;
    /// <summary>Positional reads one <see cref="Read"/> keeps in flight.</summary>
    const int ReadsInFlight = 4;

    FeatureCache(string kind, FeatureCacheKey key, FeaturePrecision precision, int samples, int views, int[] labels, int[] shape,
        bool[] present, byte[]?[] resident, FeatureCacheFile? file, bool reused)
    {
        Kind = kind; Key = key; Precision = precision; Samples = samples; Views = views; Labels = labels; FeatureShape = shape;
        _present = present; _resident = resident; _file = file; Reused = reused;
        FeatureLength = (int)Shapes.ElementCount(shape);
        RecordBytes = (long)FeatureLength * FeatureEncoding.ElementBytes(precision);
        ValidSamples = Enumerable.Range(0, samples).Where(s => Enumerable.Range(0, views).All(v => present[v * samples + s])).ToArray();
    }

    /// <summary>What the cache is for (train, val); part of the spill file's name.</summary>
    public string Kind { get; }
    public FeatureCacheKey Key { get; }
    public FeaturePrecision Precision { get; }
    public int Samples { get; }
    public int Views { get; }
    public int[] Labels { get; }
    /// <summary>Shape of one sample's frontier activation (without the batch axis).</summary>
    public int[] FeatureShape { get; }
    /// <summary>Elements of one sample's frontier activation.</summary>
    public int FeatureLength { get; }
    /// <summary>Samples with features in every view (unreadable images are left out).</summary>
    public int[] ValidSamples { get; }
    /// <summary>
    /// The samples left out of <see cref="ValidSamples"/>, each with its file and reason: what the loader met when the
    /// cache was built, or for a reused spill file what reading each left-out file again says.
    /// </summary>
    public IReadOnlyList<SkippedFile> Skipped { get; private set; } = [];
    /// <summary>Bytes of one stored record.</summary>
    public long RecordBytes { get; }
    /// <summary>Whether the records came from an existing spill file rather than from running the prefix.</summary>
    public bool Reused { get; }

    /// <summary>Bytes of every record (memory plus spill file).</summary>
    public long Bytes => (long)Samples * Views * RecordBytes;
    /// <summary>Records held in memory (the first ones); the rest are read from <see cref="FilePath"/>.</summary>
    public int ResidentRecords => _resident.Length;
    /// <summary>Bytes of features held in memory: never more than the budget the cache was given.</summary>
    public long ResidentBytes => ResidentRecords * RecordBytes;
    /// <summary>Bytes read from the spill file instead of memory.</summary>
    public long SpilledBytes => _file == null ? 0 : Bytes - ResidentBytes;
    /// <summary>The spill file, when records live outside memory.</summary>
    public string? FilePath => _file?.Path;

    /// <summary>One sample's activation in view <paramref name="view"/> (mod <see cref="Views"/>), as a new array.</summary>
    public ReadOnlySpan<float> Get(int view, int sample)
    {
        var values = new float[FeatureLength];
        Read(view, [sample], values);
        return values;
    }

    /// <summary>
    /// Copies the activations of <paramref name="samples"/> in view <paramref name="view"/> (mod <see cref="Views"/>)
    /// into <paramref name="destination"/>, one after another (a batch in NCHW order). Spilled records are read
    /// positionally, consecutive ones in one read; fp16 records widen to float32 on the way.
    /// </summary>
    public unsafe void Read(int view, ReadOnlySpan<int> samples, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int per = FeatureLength;
        if (destination.Length < (long)samples.Length * per)
            throw new ArgumentException($"{samples.Length} samples of {per} features do not fit in {destination.Length} floats.", nameof(destination));
        int v = (int)((uint)view % (uint)Views);
        List<(int First, int Count, int At)>? spilled = null;
        for (int i = 0; i < samples.Length;)
        {
            int r = Record(v, samples[i]);
            if (r < _resident.Length) { FeatureEncoding.Decode(_resident[r], destination.Slice(i * per, per), Precision); i++; continue; }
            // A run of records that follow each other in the file (e.g. validation batches) is one read.
            int run = 1;
            long maxRun = Math.Max(1, MaxReadBytes / RecordBytes);
            while (i + run < samples.Length && run < maxRun && samples[i + run] == samples[i] + run) Record(v, samples[i + run++]);
            (spilled ??= []).Add((r, run, i * per));
            i += run;
        }
        if (spilled == null) return;
        if (spilled.Count == 1) { ReadSpilled(spilled[0].First, spilled[0].Count, destination.Slice(spilled[0].At, spilled[0].Count * per)); return; }
        // Several reads in flight at once: a disk (or the page cache on several cores) serves them faster than one by one.
        fixed (float* start = destination)
        {
            nint address = (nint)start;
            try
            {
                Parallel.ForEach(spilled, new ParallelOptions { MaxDegreeOfParallelism = ReadsInFlight }, run =>
                    ReadSpilled(run.First, run.Count, new Span<float>((float*)address + run.At, run.Count * per)));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
    }

    int Record(int view, int sample)
    {
        if ((uint)sample >= (uint)Samples) throw new ArgumentOutOfRangeException(nameof(sample), sample, $"The {Kind} feature cache holds {Samples} samples.");
        int r = view * Samples + sample;
        if (!_present[r]) throw new InvalidOperationException($"Sample {sample} has no features in view {view} of the {Kind} feature cache: its image could not be read.");
        return r;
    }

    void ReadSpilled(int first, int count, Span<float> destination)
    {
        var file = _file!;
        if (Precision == FeaturePrecision.Fp32) { file.Read(first, count, MemoryMarshal.AsBytes(destination)); return; }
        int bytes = checked((int)(count * RecordBytes));
        var buffer = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            file.Read(first, count, buffer);
            FeatureEncoding.Decode(buffer.AsSpan(0, bytes), destination, Precision);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Closes the spill file (which stays on disk for reuse) and lets go of the records in memory.</summary>
    public void Dispose()
    {
        _disposed = true;
        _file?.Dispose();
        _file = null;
        _resident = [];
    }

    /// <summary>
    /// The cache of <paramref name="views"/> passes of <paramref name="pipeline"/> over <paramref name="dataset"/>
    /// through <paramref name="prefix"/> (whose outputs are the frontier): read from the spill file of the same key
    /// in <see cref="FeatureCacheSettings.Folder"/> when there is a sound one, else built by running the prefix
    /// (view v is the loader's unshuffled epoch v), spilling beyond <see cref="FeatureCacheSettings.BudgetBytes"/>.
    /// </summary>
    /// <param name="kind">A short name (letters, digits, '-') for logs and the file name, e.g. train or val.</param>
    /// <param name="runner">The prefix's runner when the caller builds several caches of it (validation, then training): its plans, packed weights and buffers are made once.</param>
    public static FeatureCache GetOrBuild(string kind, ComputeGraph prefix, ImageDataset dataset, TransformPipeline pipeline, int views,
        FeatureCacheSettings settings, TextWriter? log = null, Action<int, int>? progress = null, GraphRunner? runner = null)
    {
        if (string.IsNullOrEmpty(kind) || !kind.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            throw new ArgumentException($"Feature cache kind '{kind}' must be letters, digits and '-'.", nameof(kind));
        if (views < 1) throw new ArgumentOutOfRangeException(nameof(views), views, "A feature cache needs at least one view.");
        if (settings.BudgetBytes < 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.BudgetBytes, "The feature cache budget cannot be negative.");
        var sw = Stopwatch.StartNew();
        var key = FeatureCacheKey.Compute(prefix, dataset, pipeline, views, settings.Seed, settings.Precision);
        string? path = settings.Folder == null ? null : Path.Combine(settings.Folder, $"{kind}-{key.Hex[..16]}.features");
        if (path != null && File.Exists(path))
        {
            var file = FeatureCacheFile.TryOpen(path, key, settings.Precision, dataset.Count, views, out var problem);
            if (file != null)
            {
                var reused = FromFile(kind, file, settings.BudgetBytes);
                reused.Skipped = Unreadable(dataset, reused);
                log?.WriteLine($"feature cache {kind}: reused {path} ({Describe(reused)}), loaded in {sw.Elapsed.TotalSeconds:F1}s");
                return reused;
            }
            log?.WriteLine($"feature cache {kind}: not trusting the existing file ({problem}); rebuilding it");
            File.Delete(path);
        }
        var cache = Build(kind, key, path, runner ?? new GraphRunner(prefix, optimize: true), prefix, dataset, pipeline, views, settings, progress, log);
        log?.WriteLine($"feature cache {kind}: built {Describe(cache)}{(cache.FilePath != null ? $" in {cache.FilePath}" : "")} in {sw.Elapsed.TotalSeconds:F1}s");
        return cache;
    }

    static string Describe(FeatureCache c)
    {
        static string Mb(long b) => (b / 1048576.0).ToString(b < 10L << 20 ? "F1" : "F0", CultureInfo.InvariantCulture) + " MB";
        var s = $"{c.Views} view{(c.Views == 1 ? "" : "s")} × {c.Samples} images of {Shapes.Format(c.FeatureShape)} {c.Precision.ToString().ToLowerInvariant()}, {Mb(c.Bytes)}";
        return c.SpilledBytes > 0 ? $"{s}: {Mb(c.ResidentBytes)} in memory, {Mb(c.SpilledBytes)} read from disk" : $"{s} in memory";
    }

    /// <summary>Records that fit in <paramref name="budget"/> bytes, at most all of them.</summary>
    static int ResidentCount(int records, long recordBytes, long budget) => (int)Math.Min(records, budget / Math.Max(1, recordBytes));

    /// <summary>
    /// Why each sample a reused cache has no features for was skipped: its file is opened and decoded again (only
    /// those files, which are mostly refused from their header), since the spill file keeps presence, not reasons.
    /// </summary>
    static IReadOnlyList<SkippedFile> Unreadable(ImageDataset dataset, FeatureCache cache)
    {
        var valid = new HashSet<int>(cache.ValidSamples);
        var skipped = new List<SkippedFile>();
        for (int i = 0; i < dataset.Count; i++)
        {
            if (valid.Contains(i)) continue;
            var path = dataset.GetSource(i).Path;
            string reason = "its image could not be read when the feature cache was built";
            if (path != null)
                try { using var encoded = Augment.Imaging.EncodedImage.Open(path); encoded.Decode().Dispose(); }
                catch (Augment.Imaging.ImageDecodeException e) { reason = e.Reason; }
            skipped.Add(new SkippedFile(i, path ?? dataset.Describe(i), reason));
        }
        return skipped;
    }

    static FeatureCache FromFile(string kind, FeatureCacheFile file, long budget)
    {
        var h = file.Header;
        var resident = new byte[]?[ResidentCount(h.Records, h.RecordBytes, budget)];
        try
        {
            for (int r = 0; r < resident.Length; r++)
            {
                if (!h.Present[r]) continue;
                resident[r] = new byte[h.RecordBytes];
                file.Read(r, 1, resident[r]);
            }
        }
        catch { file.Dispose(); throw; }
        // Everything fits: no need to keep the file open (it stays on disk for the next run).
        if (resident.Length == h.Records) { file.Dispose(); file = null!; }
        return new FeatureCache(kind, h.Key, h.Precision, h.Samples, h.Views, h.Labels, h.Shape, h.Present, resident, file, reused: true);
    }

    static FeatureCache Build(string kind, FeatureCacheKey key, string? path, GraphRunner runner, ComputeGraph prefix, ImageDataset dataset, TransformPipeline pipeline,
        int views, FeatureCacheSettings s, Action<int, int>? progress, TextWriter? log)
    {
        using var loader = new DataLoader(dataset, pipeline, new DataLoaderOptions { BatchSize = s.Batch, Shuffle = false, Seed = s.Seed, Threads = s.Threads });
        // Each unreadable file is reported once (by path and reason, the first ten live), from whichever worker met it first.
        if (log != null) loader.Summary.FileSkipped += SkipLog.For(log, $"feature cache {kind}");
        int count = dataset.Count, records = views * count;
        var labels = new int[count];
        var present = new bool[records];
        byte[]?[]? resident = null;
        int[]? shape = null;
        FeatureCacheWriter? writer = null;
        byte[]? scratch = null;
        long recordBytes = 0;
        int done = 0, total = views * loader.BatchesPerEpoch;
        try
        {
            for (int v = 0; v < views; v++)
            {
                foreach (var b in loader.Epoch(v))
                {
                    var images = b.CompactImages();
                    var y = runner.Infer([images])[0];
                    int per = y.Length / y.Dim(0);
                    if (resident == null)
                    {
                        shape = y.ShapeArray[1..];
                        recordBytes = (long)per * FeatureEncoding.ElementBytes(s.Precision);
                        int fit = ResidentCount(records, recordBytes, s.BudgetBytes);
                        if (fit < records)
                        {
                            if (path == null)
                                throw new InsufficientMemoryException($"The {kind} feature cache needs {(long)records * recordBytes / 1048576} MB for {views} views of {count} images; the budget is {s.BudgetBytes / 1048576} MB and there is no folder to spill to. Lower --cache-views or raise the budget.");
                            RemoveAbandonedFiles(path);
                            writer = FeatureCacheWriter.Create(path, count, views, shape.Length, recordBytes);
                            scratch = new byte[recordBytes];
                        }
                        resident = new byte[]?[fit];
                    }
                    for (int i = 0; i < b.Count; i++)
                    {
                        int sample = b.SampleIndices[i], r = v * count + sample;
                        var values = y.Span.Slice(i * per, per);
                        if (s.Precision == FeaturePrecision.Fp16 && !FeatureEncoding.FitsHalf(values, out float worst))
                            throw new InvalidDataException($"The {kind} feature cache cannot hold {dataset.Describe(sample)} (view {v}) in half precision: its activation at '{prefix.Outputs[0].Name}' reaches {TransferKit.FineTune.Reporting.Numbers.Fixed(worst, 4)}, beyond ±65504. Run without --cache-fp16.");
                        byte[] record = r < resident.Length ? (resident[r] = new byte[recordBytes]) : scratch!;
                        FeatureEncoding.Encode(values, record, s.Precision);
                        writer?.Write(r, record);
                        present[r] = true;
                        labels[sample] = b.Labels[i];
                    }
                    progress?.Invoke(++done, total);
                }
            }
            if (resident == null) throw new InvalidOperationException($"No image of the {kind} set could be read for the feature cache.");
            var file = writer?.Commit(new FeatureCacheHeader(key, s.Precision, count, views, shape!, labels, present));
            return new FeatureCache(kind, key, s.Precision, count, views, labels, shape!, present, resident, file, reused: false) { Skipped = loader.Summary.Skipped };
        }
        finally { writer?.Dispose(); }
    }

    /// <summary>
    /// Deletes temporary files that runs killed while writing left behind (their process is gone). Committed files of
    /// other keys stay: another phase or a later run may still want them.
    /// </summary>
    static void RemoveAbandonedFiles(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) return;
        foreach (var f in Directory.EnumerateFiles(folder, "*.features.tmp-*"))
        {
            var pid = f[(f.LastIndexOf("-", StringComparison.Ordinal) + 1)..];
            if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || ProcessRuns(id)) continue;
            try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool ProcessRuns(int id)
    {
        try { using var p = Process.GetProcessById(id); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
