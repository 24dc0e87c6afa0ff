namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Hands out float buffers to values whose lifetimes are known in advance, so that two values alive at the same time
/// never share one. Greedy by size (as in TensorFlow Lite's shared-object planner): the largest value first, each into
/// the smallest buffer already made that is free over its whole lifetime, else into a new buffer of its own size. A small
/// value that outlives a pass therefore only takes a large buffer where no larger value needs it.
/// </summary>
static class BufferArena
{
    /// <summary>A value (by a caller's key) of <paramref name="Floats"/> elements alive from step Birth to step Death, both included.</summary>
    public readonly record struct Lifetime(int Key, long Floats, int Birth, int Death);

    sealed class Buffer(long floats)
    {
        public readonly long Floats = floats;
        public readonly List<(int Birth, int Death)> Busy = [];
        public bool FreeOver(int birth, int death) => Busy.TrueForAll(b => b.Death < birth || b.Birth > death);
    }

    /// <summary>Values that share a key share a buffer: one lifetime per key, from the first birth to the last death, of the largest size.</summary>
    public static IEnumerable<Lifetime> Merge(IEnumerable<Lifetime> parts) =>
        parts.GroupBy(l => l.Key).Select(g => new Lifetime(g.Key, g.Max(l => l.Floats), g.Min(l => l.Birth), g.Max(l => l.Death)));

    /// <summary>A buffer for every key; <paramref name="totalFloats"/> is the sum of the buffers made.</summary>
    public static Dictionary<int, float[]> Assign(IReadOnlyList<Lifetime> lifetimes, out long totalFloats)
    {
        var buffers = new List<Buffer>();
        var chosen = new Dictionary<int, Buffer>();
        foreach (var l in lifetimes.OrderByDescending(l => l.Floats).ThenBy(l => l.Birth).ThenBy(l => l.Key))
        {
            if (l.Death < l.Birth) throw new ArgumentException($"Value {l.Key} dies (step {l.Death}) before it is born (step {l.Birth}).");
            Buffer? best = null;
            foreach (var b in buffers)
                if (b.Floats >= l.Floats && (best == null || b.Floats < best.Floats) && b.FreeOver(l.Birth, l.Death)) best = b;
            if (best == null) buffers.Add(best = new Buffer(Math.Max(l.Floats, 1)));
            best.Busy.Add((l.Birth, l.Death));
            chosen[l.Key] = best;
        }
        var arrays = buffers.ToDictionary(b => b, b => new float[b.Floats]);
        totalFloats = buffers.Sum(b => b.Floats);
        return chosen.ToDictionary(kv => kv.Key, kv => arrays[kv.Value]);
    }
}
