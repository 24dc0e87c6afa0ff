using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace TransferKit.Toolkit.Threading;

/// <summary>
/// Dedicated helper threads for <see cref="Workers.Run"/>: after finishing a piece of work each helper spins for
/// <see cref="SpinMicroseconds"/> waiting for the next before it blocks, so the many short parallel regions of a
/// batch-1 inference (one or two per layer, each a fraction of a millisecond) do not each pay a thread wake-up, as
/// they would through the thread pool. The pieces of a region are claimed, not assigned: the caller and every helper
/// take the next unclaimed piece until none is left, so a helper the operating system has not scheduled yet (a busy,
/// shared machine) leaves its share to the threads that are running instead of stalling the region. One caller at a
/// time: a second concurrent caller, or a call from inside a region, is refused and falls back to the thread pool.
/// </summary>
static class SpinningHelpers
{
    /// <summary>How long an idle helper spins before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    /// <summary>One parallel region: pieces 0 … Count − 1 of <see cref="Body"/>, claimed through <see cref="Next"/>.</summary>
    sealed class Region(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        public int Next;
        public int Left = count;
        public Exception? Error;

        /// <summary>Runs pieces until none is unclaimed.</summary>
        public void Drain()
        {
            int i;
            while ((i = Interlocked.Increment(ref Next) - 1) < Count)
            {
                try { Body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                Interlocked.Decrement(ref Left);
            }
        }
    }

    sealed class Helper
    {
        public readonly ManualResetEventSlim Wake = new(false);
        public volatile Region? Work;
    }

    static readonly List<Helper> _helpers = [];
    static int _busy;
    [ThreadStatic] static bool _inRegion;

    /// <summary>Runs body(0 … threads − 1), each once, on the caller and up to threads − 1 helpers; false (nothing run) when the helpers are taken.</summary>
    public static bool TryRun(int threads, Action<int> body)
    {
        if (_inRegion || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            while (_helpers.Count < threads - 1) Start();
            var region = new Region(threads, body);
            for (int t = 1; t < threads; t++)
            {
                var h = _helpers[t - 1];
                h.Work = region;
                h.Wake.Set();
            }
            _inRegion = true;
            try { region.Drain(); }
            finally { _inRegion = false; }
            // Pieces a helper claimed may still run: spin for them, yielding the core now and then, never sleeping.
            var spin = new SpinWait();
            while (Volatile.Read(ref region.Left) > 0) spin.SpinOnce(sleep1Threshold: -1);
            if (region.Error is { } first) ExceptionDispatchInfo.Capture(first).Throw();
            return true;
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    static void Start()
    {
        var h = new Helper();
        _helpers.Add(h);
        new Thread(() => Loop(h)) { IsBackground = true, Name = $"TransferKit worker {_helpers.Count}" }.Start();
    }

    static void Loop(Helper h)
    {
        _inRegion = true;
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            long since = Stopwatch.GetTimestamp();
            Region? work;
            while ((work = h.Work) == null)
            {
                if (Stopwatch.GetTimestamp() - since < spinTicks) { Thread.SpinWait(20); continue; }
                h.Wake.Wait();
                h.Wake.Reset();
                since = Stopwatch.GetTimestamp();
            }
            // Taken before draining: a region set while this one drains is seen on the next turn.
            Interlocked.CompareExchange(ref h.Work, null, work);
            work.Drain();
        }
    }
}
