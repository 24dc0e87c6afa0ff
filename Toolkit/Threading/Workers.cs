namespace TransferKit.Toolkit.Threading;

/// <summary>
/// The engine's degree of parallelism and a range-splitting loop used by kernels.
/// Work below <see cref="MinWorkPerThread"/> runs on the calling thread: on a 2-core machine a
/// thread hand-off costs more than a few thousand flops.
/// </summary>
public static class Workers
{
    static int _maxThreads = Environment.ProcessorCount;

    /// <summary>A lower limit for kernels called on this thread (0: none), set by <see cref="Limited"/>.</summary>
    [ThreadStatic] static int _threadLimit;

    /// <summary>Threads a kernel may use (the CLI's <c>--threads</c>; on a thread inside <see cref="Limited"/>, at most that limit).</summary>
    public static int MaxThreads
    {
        get => _threadLimit > 0 ? Math.Min(_threadLimit, _maxThreads) : _maxThreads;
        set => _maxThreads = value < 1 ? Environment.ProcessorCount : value;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the kernels it calls on this thread limited to <paramref name="threads"/>
    /// threads (1: all on this thread), as when each thread runs its own part of a batch.
    /// </summary>
    public static void Limited(int threads, Action body)
    {
        int saved = _threadLimit;
        _threadLimit = Math.Max(1, threads);
        try { body(); }
        finally { _threadLimit = saved; }
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the kernels it calls on this thread held to the thread count of this moment:
    /// a change of <see cref="MaxThreads"/> meanwhile (another job in the same process setting its own) takes effect
    /// at the next call, never in the middle of this one, where a kernel would find its workspace sized for fewer
    /// threads than it then reads. (A lower setting still applies at once: fewer threads never need more scratch.)
    /// </summary>
    public static void Pinned(Action body) => Limited(MaxThreads, body);

    /// <summary><see cref="Pinned(Action)"/> for a body with a result.</summary>
    public static T Pinned<T>(Func<T> body)
    {
        T result = default!;
        Limited(MaxThreads, () => result = body());
        return result;
    }

    /// <summary>Rough element-operations below which a loop is not split.</summary>
    public const long MinWorkPerThread = 32 * 1024;

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in at most <see cref="MaxThreads"/> contiguous chunks.
    /// <paramref name="workPerItem"/> estimates the cost of one item to decide whether splitting pays.
    /// </summary>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = (int)Math.Min(Math.Min(MaxThreads, count), Math.Max(1, count * Math.Max(1, workPerItem) / MinWorkPerThread));
        if (threads <= 1) { body(0, count); return; }
        Run(threads, t =>
        {
            int start = (int)((long)count * t / threads);
            int end = (int)((long)count * (t + 1) / threads);
            if (end > start) body(start, end);
        });
    }

    /// <summary>
    /// Runs body(0 … threads − 1), one call per thread, the caller taking 0: on spinning helper threads
    /// (<see cref="SpinningHelpers"/>) when they are free, else through <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>.
    /// </summary>
    public static void Run(int threads, Action<int> body)
    {
        if (threads <= 1) { body(0); return; }
        if (SpinningHelpers.TryRun(threads, body)) return;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }
}
