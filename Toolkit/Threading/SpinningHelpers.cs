using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace TransferKit.Toolkit.Threading;

/// <summary>
/// Dedicated helper threads for <see cref="Workers.Run"/>: after finishing a piece of work each helper spins for
/// <see cref="SpinMicroseconds"/> waiting for the next before it blocks, so the many short parallel regions of a
/// batch-1 inference (one or two per layer, each a fraction of a millisecond) do not each pay a thread wake-up, as
/// they would through the thread pool. One caller at a time: a second concurrent caller, or a call from inside a
/// region, is refused and the caller falls back to the thread pool.
/// </summary>
static class SpinningHelpers
{
    /// <summary>How long an idle helper spins before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    sealed class Helper
    {
        public readonly ManualResetEventSlim Wake = new(false);
        public volatile Action<int>? Work;
        public volatile bool Done = true;
        public int Index;
        public Exception? Error;
    }

    static readonly List<Helper> _helpers = [];
    static int _busy;
    [ThreadStatic] static bool _inRegion;

    /// <summary>Runs body(0) on the caller and body(1 … threads − 1) on helpers; false (nothing run) when the helpers are taken.</summary>
    public static bool TryRun(int threads, Action<int> body)
    {
        if (_inRegion || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            while (_helpers.Count < threads - 1) Start();
            for (int t = 1; t < threads; t++)
            {
                var h = _helpers[t - 1];
                h.Index = t; h.Error = null; h.Done = false;
                h.Work = body;
                h.Wake.Set();
            }
            Exception? first = null;
            _inRegion = true;
            try { body(0); }
            catch (Exception e) { first = e; }
            finally { _inRegion = false; }
            // Wait for the helpers: spin, yielding the core now and then (a helper that was descheduled needs it), never sleeping.
            var spin = new SpinWait();
            for (int t = 1; t < threads; t++)
            {
                var h = _helpers[t - 1];
                while (!h.Done) spin.SpinOnce(sleep1Threshold: -1);
                first ??= h.Error;
            }
            if (first != null) ExceptionDispatchInfo.Capture(first).Throw();
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
            while (h.Work == null)
            {
                if (Stopwatch.GetTimestamp() - since < spinTicks) { Thread.SpinWait(20); continue; }
                h.Wake.Wait();
                h.Wake.Reset();
                since = Stopwatch.GetTimestamp();
            }
            var work = h.Work;
            h.Work = null;
            try { work(h.Index); }
            catch (Exception e) { h.Error = e; }
            h.Done = true;
        }
    }
}
