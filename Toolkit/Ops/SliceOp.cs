using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// A strided slice with starts, ends, axes and steps fixed when the graph is built (ONNX Slice: attributes before
/// opset 10, constant inputs from it). Per listed axis of size n: a negative start or end has n added, then for a
/// positive step start and end are clamped to [0, n], for a negative step start to [0, n − 1] and end to [−1, n − 1];
/// the axis keeps the elements start, start + step, … before end. Unlisted axes are kept whole. Bounds are resolved
/// against each input shape, so a slice "to the end" follows the input. Gradient: dx = zeros with g scatter-added
/// at the sliced positions.
/// </summary>
public sealed class SliceOp : Op
{
    /// <summary>Slices <paramref name="axes"/> (negative counts from the end) by the given starts, ends and steps.</summary>
    public SliceOp(long[] starts, long[] ends, long[] axes, long[] steps)
    {
        if (starts.Length != ends.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new ArgumentException($"Slice has {starts.Length} starts, {ends.Length} ends, {axes.Length} axes and {steps.Length} steps; they must agree.");
        if (steps.Any(s => s == 0)) throw new ArgumentException("Slice step 0.");
        Starts = starts; Ends = ends; Axes = axes; Steps = steps;
    }

    /// <summary>First index per listed axis (negative counts from the end).</summary>
    public long[] Starts { get; }
    /// <summary>End (exclusive) per listed axis (negative counts from the end; out of range is clamped).</summary>
    public long[] Ends { get; }
    /// <summary>The axes sliced (negative counts from the end), each at most once.</summary>
    public long[] Axes { get; }
    /// <summary>Step per listed axis, never 0; negative walks backwards.</summary>
    public long[] Steps { get; }
    public override string Type => "Slice";

    /// <summary>First index, step and element count of every axis of an input of shape <paramref name="x"/>.</summary>
    public (int[] Start, int[] Step, int[] Count) Resolve(ReadOnlySpan<int> x)
    {
        int rank = x.Length;
        var start = new int[rank]; var step = new int[rank]; var count = x.ToArray();
        Array.Fill(step, 1);
        var seen = new bool[rank];
        for (int i = 0; i < Starts.Length; i++)
        {
            if (Axes[i] < -rank || Axes[i] >= rank) throw new ShapeException($"Slice axis {Axes[i]} does not fit rank {rank}.");
            int d = (int)(Axes[i] < 0 ? Axes[i] + rank : Axes[i]);
            if (seen[d]) throw new ShapeException($"Slice axis {d} is listed twice.");
            seen[d] = true;
            long n = x[d], st = Steps[i];
            long s = Starts[i] < 0 ? Starts[i] + n : Starts[i];
            long e = Ends[i] < 0 ? Ends[i] + n : Ends[i];
            long c;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, n); e = Math.Clamp(e, 0, n);
                c = e > s ? 1 + (e - s - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, Math.Max(n - 1, 0)); e = Math.Clamp(e, -1, n - 1);
                long back = st == long.MinValue ? long.MaxValue : -st;
                c = s > e ? 1 + (s - e - 1) / back : 0;
            }
            // With more than one element taken |step| < n, so it fits an int; with one or none it is never multiplied.
            start[d] = (int)s; step[d] = c > 1 ? (int)st : 1; count[d] = (int)c;
        }
        return (start, step, count);
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Resolve(inputs[0]).Count];

    /// <summary>
    /// Visits the slice row by row (the last axis): y[dst + t] ↔ x[src + t·stride] for t &lt; n. Forward copies x to y,
    /// backward adds g into dx along the same pairs.
    /// </summary>
    void Walk(ReadOnlySpan<int> xShape, Span<float> x, Span<float> y, bool backward)
    {
        var (start, step, count) = Resolve(xShape);
        int rank = xShape.Length;
        long total = Shapes.ElementCount(count);
        if (total == 0) return;
        var strides = Shapes.Strides(xShape);
        if (rank == 0) { if (backward) x[0] += y[0]; else y[0] = x[0]; return; }
        int n = count[rank - 1], stride = step[rank - 1];
        int src = 0;
        for (int d = 0; d < rank; d++) src += start[d] * strides[d];
        var idx = new int[rank];
        for (long dst = 0; dst < total; dst += n)
        {
            if (backward)
                for (int t = 0, s = src; t < n; t++, s += stride) x[s] += y[(int)dst + t];
            else if (stride == 1) x.Slice(src, n).CopyTo(y.Slice((int)dst, n));
            else
                for (int t = 0, s = src; t < n; t++, s += stride) y[(int)dst + t] = x[s];
            // Odometer over the axes before the last.
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; src += step[d] * strides[d];
                if (idx[d] < count[d]) break;
                src -= step[d] * strides[d] * count[d]; idx[d] = 0;
            }
        }
    }

    public override void Forward(OpContext ctx) => Walk(ctx.Inputs[0].Shape, ctx.Inputs[0].Span, ctx.Outputs[0].Span, backward: false);

    public override bool HasBackward => true;

    // Only the shape of x is needed; y is never read.
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        Walk(gx.Shape, gx.Span, ctx.OutputGrads[0].Span, backward: true);
    }

    public override string Describe() =>
        $"Slice(starts=[{string.Join(",", Starts)}], ends=[{string.Join(",", Ends)}], axes=[{string.Join(",", Axes)}], steps=[{string.Join(",", Steps)}])";
}
