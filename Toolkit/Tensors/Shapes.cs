namespace TransferKit.Toolkit.Tensors;

/// <summary>Shape arithmetic shared by ops, the importer and the execution plan.</summary>
public static class Shapes
{
    /// <summary>Largest element count a single tensor may hold (one managed float array).</summary>
    public const long MaxElements = int.MaxValue - 64;

    /// <summary>Product of the dimensions; throws on a negative dimension or an overflowing count.</summary>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ShapeException($"Negative dimension in shape {Format(shape)}.");
            n *= d;
            if (n > MaxElements) throw new ShapeException($"Shape {Format(shape)} has more than {MaxElements} elements.");
        }
        return n;
    }

    /// <summary>Same as <see cref="ElementCount(ReadOnlySpan{int})"/> for 64-bit dimensions as read from a file.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ShapeException($"Negative dimension in shape [{string.Join(",", shape.ToArray())}].");
            if (d != 0 && n > MaxElements / d)
                throw new ShapeException($"Shape [{string.Join(",", shape.ToArray())}] has more than {MaxElements} elements.");
            n *= d;
        }
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Numpy-style broadcast of two shapes.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeException($"Shapes {Format(a)} and {Format(b)} cannot be broadcast.");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>Product of dimensions in [from, to).</summary>
    public static int Product(ReadOnlySpan<int> shape, int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }

    public static int NormalizeAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ShapeException($"Axis {axis} is out of range for rank {rank}.");
        return a;
    }

    public static bool SequenceEqual(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}

/// <summary>A shape that does not fit an op or overflows.</summary>
public sealed class ShapeException(string message) : Exception(message);
