using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;
using TransferKit.Augment.Transforms;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Augment.Loading;

/// <summary>
/// Decodes and augments samples on worker threads into a ring of <c>Prefetch + 1</c> reusable batch buffers and
/// yields them in order as NCHW float32 tensors with int labels. Every sample's pixels depend only on
/// (seed, epoch, sample index), so any thread count and prefetch depth give bitwise-identical batches.
/// Files that cannot be read are reported in <see cref="Summary"/> with path and reason, and left out of their batch.
/// </summary>
public sealed class DataLoader : IDisposable
{
    readonly ImageDataset _dataset;
    readonly TransformPipeline _pipeline;
    readonly Batch[] _ring;
    readonly SampleProcessor[] _processors;
    readonly int[] _order;
    bool _running;

    public DataLoader(ImageDataset dataset, TransformPipeline pipeline, DataLoaderOptions? options = null)
    {
        Options = options ?? new DataLoaderOptions();
        if (Options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.BatchSize, "BatchSize must be positive.");
        if (Options.Threads <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Threads, "Threads must be positive.");
        if (Options.Prefetch <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Prefetch, "Prefetch must be at least 1.");
        if (pipeline.OutputSize is not var (width, height))
            throw new ArgumentException($"The pipeline '{pipeline}' does not fix the output size; end it with a crop or an exact Resize so samples can be batched.");
        ImagingBackend.EnsureLoaded();
        _dataset = dataset;
        _pipeline = pipeline;
        Channels = pipeline.OutputChannels;
        Height = height;
        Width = width;
        _ring = new Batch[Options.Prefetch + 1];
        for (int i = 0; i < _ring.Length; i++) _ring[i] = new Batch(Options.BatchSize, Channels, Height, Width);
        _processors = new SampleProcessor[Options.Threads];
        if (Options.DecodeCacheMegabytes < 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.DecodeCacheMegabytes, "DecodeCacheMegabytes cannot be negative.");
        Cache = Options.DecodeCache ?? (Options.DecodeCacheMegabytes > 0 ? new DecodedImageCache((long)Options.DecodeCacheMegabytes << 20) : null);
        for (int i = 0; i < _processors.Length; i++) _processors[i] = new SampleProcessor { Cache = Cache };
        _order = new int[dataset.Count];
    }

    public DataLoaderOptions Options { get; }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Samples delivered and files skipped so far.</summary>
    public LoaderSummary Summary { get; } = new();

    /// <summary>The decoded images shared by the workers across epochs (null when <see cref="DataLoaderOptions.DecodeCacheMegabytes"/> is 0).</summary>
    public DecodedImageCache? Cache { get; }

    /// <summary>Samples visited per epoch.</summary>
    public int SamplesPerEpoch => Options.DropLast ? _dataset.Count / Options.BatchSize * Options.BatchSize : _dataset.Count;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (SamplesPerEpoch + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The sample order of an epoch (a seeded permutation when shuffling).</summary>
    public void EpochOrder(int epoch, Span<int> order)
    {
        if (!Options.Shuffle) { for (int i = 0; i < order.Length; i++) order[i] = i; return; }
        var rng = new CounterRng(Options.Seed, epoch, -1, -1);
        rng.Permutation(order);
    }

    /// <summary>
    /// The batches of one epoch. Each yielded <see cref="Batch"/> is valid until the next one is requested; its
    /// buffer then returns to the ring. One epoch runs at a time.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        if (_running) throw new InvalidOperationException("An epoch of this loader is already running; finish or dispose it first.");
        _running = true;
        EpochOrder(epoch, _order);
        var run = new EpochRun(this, epoch);
        try
        {
            run.Start();
            for (int b = 0; b < run.BatchCount; b++)
            {
                var batch = run.WaitFor(b);
                if (batch.Count > 0) yield return batch;
                run.Release(b);
            }
        }
        finally
        {
            run.Stop();
            _running = false;
        }
    }

    public void Dispose()
    {
        foreach (var p in _processors) p.Dispose();
    }

    /// <summary>The coordination of one epoch: workers claim sample positions in order; a batch's slot is free once
    /// the consumer has released the batch K positions earlier.</summary>
    sealed class EpochRun
    {
        readonly DataLoader _loader;
        readonly int _epoch;
        readonly object _gate = new();
        readonly int[] _remaining;
        readonly bool[] _ready;
        readonly Thread[] _threads;
        readonly int _total, _batchSize, _k;
        int _next;
        int _released;
        volatile bool _stop;
        Exception? _error;

        public EpochRun(DataLoader loader, int epoch)
        {
            _loader = loader;
            _epoch = epoch;
            _total = loader.SamplesPerEpoch;
            _batchSize = loader.Options.BatchSize;
            _k = loader._ring.Length;
            BatchCount = loader.BatchesPerEpoch;
            _remaining = new int[_k];
            _ready = new bool[_k];
            for (int b = 0; b < Math.Min(_k, BatchCount); b++) _remaining[b] = SizeOf(b);
            _threads = new Thread[loader._processors.Length];
        }

        public int BatchCount { get; }

        int SizeOf(int b) => Math.Min(_batchSize, _total - b * _batchSize);

        public void Start()
        {
            for (int t = 0; t < _threads.Length; t++)
            {
                var processor = _loader._processors[t];
                _threads[t] = new Thread(() => Work(processor)) { IsBackground = true, Name = $"DataLoader worker {t}" };
                _threads[t].Start();
            }
        }

        void Work(SampleProcessor processor)
        {
            try
            {
                while (!_stop)
                {
                    int p = Interlocked.Increment(ref _next) - 1;
                    if (p >= _total) return;
                    int b = p / _batchSize, j = p % _batchSize, slot = b % _k;
                    if (b - _k >= Volatile.Read(ref _released))
                    {
                        lock (_gate)
                        {
                            while (b - _k >= _released && !_stop) Monitor.Wait(_gate);
                        }
                        if (_stop) return;
                    }
                    Fill(processor, _loader._ring[slot], j, _loader._order[p]);
                    if (Interlocked.Decrement(ref _remaining[slot]) == 0)
                    {
                        lock (_gate)
                        {
                            _ready[slot] = true;
                            Monitor.PulseAll(_gate);
                        }
                    }
                }
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _error ??= e;
                    _stop = true;
                    Monitor.PulseAll(_gate);
                }
            }
        }

        void Fill(SampleProcessor processor, Batch batch, int j, int index)
        {
            var dataset = _loader._dataset;
            batch.Labels[j] = dataset.GetLabel(index);
            batch.SampleIndices[j] = index;
            batch.Ok[j] = false;
            if (_loader.Summary.IsKnownBad(index)) return;
            SampleBuffer output;
            try
            {
                output = processor.Process(dataset.GetSource(index), _loader._pipeline, _loader.Options.Seed, _epoch, index);
            }
            catch (ImageDecodeException e)
            {
                _loader.Summary.AddSkipped(new SkippedFile(index, e.Path, e.Reason));
                return;
            }
            if (output.Channels != batch.Channels || output.Height != batch.Height || output.Width != batch.Width)
                throw new InvalidOperationException(
                    $"Sample '{dataset.Describe(index)}' came out {output.Channels}×{output.Height}×{output.Width}, not {batch.Channels}×{batch.Height}×{batch.Width}.");
            output.Pixels.CopyTo(batch.Data.AsSpan(j * batch.SampleSize, batch.SampleSize));
            batch.Ok[j] = true;
        }

        public Batch WaitFor(int b)
        {
            int slot = b % _k;
            lock (_gate)
            {
                while (!_ready[slot] && _error is null) Monitor.Wait(_gate);
                if (_error is not null)
                    throw new InvalidOperationException($"A data loader worker failed: {_error.Message}", _error);
            }
            var batch = _loader._ring[slot];
            int n = SizeOf(b), kept = 0, size = batch.SampleSize;
            for (int j = 0; j < n; j++)
            {
                if (!batch.Ok[j]) continue;
                if (kept != j)
                {
                    Array.Copy(batch.Data, j * size, batch.Data, kept * size, size);
                    batch.Labels[kept] = batch.Labels[j];
                    batch.SampleIndices[kept] = batch.SampleIndices[j];
                }
                kept++;
            }
            batch.Count = kept;
            batch.Index = b;
            batch.Images = kept == _batchSize ? batch.FullTensor
                : new Tensor([kept, batch.Channels, batch.Height, batch.Width], batch.Data);
            _loader.Summary.AddLoaded(kept);
            return batch;
        }

        public void Release(int b)
        {
            int slot = b % _k;
            lock (_gate)
            {
                _ready[slot] = false;
                if (b + _k < BatchCount) _remaining[slot] = SizeOf(b + _k);
                Volatile.Write(ref _released, b + 1);
                Monitor.PulseAll(_gate);
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _stop = true;
                Monitor.PulseAll(_gate);
            }
            foreach (var t in _threads) t?.Join();
        }
    }
}
