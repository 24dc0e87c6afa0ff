using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>What a <see cref="ReduceOp"/> computes over the reduced elements.</summary>
public enum ReduceKind { Sum, Mean, Max, Min, L2, SumSquare }

/// <summary>
/// A reduction over axes (all when null or empty), keeping reduced axes as 1 when <see cref="KeepDims"/>.
/// Gradients, with y = out(i) the output element x[i] reduced into and n the elements per output:
/// Sum dx = g; Mean dx = g / n; SumSquare dx = 2g·x; L2 (y = √Σx²) dx = g·x / y (0 where y = 0);
/// Max and Min dx = g / t where x = y, t the number of such ties (PyTorch's amax/amin), 0 elsewhere.
/// </summary>
public sealed class ReduceOp(ReduceKind kind, int[]? axes, bool keepDims) : Op
{
    public ReduceKind Kind { get; } = kind;
    public int[]? Axes { get; } = axes;
    public bool KeepDims { get; } = keepDims;
    public override string Type => "Reduce" + Kind;

    bool[] Reduced(int rank)
    {
        var r = new bool[rank];
        if (Axes == null || Axes.Length == 0) Array.Fill(r, true);
        else foreach (var a in Axes) r[Shapes.NormalizeAxis(a, rank)] = true;
        return r;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0]; var red = Reduced(x.Length);
        var r = new List<int>();
        for (int i = 0; i < x.Length; i++)
            if (!red[i]) r.Add(x[i]); else if (KeepDims) r.Add(1);
        return [r.ToArray()];
    }

    /// <summary>
    /// Calls visit(i, o) for every input element i in order with the output element o it reduces into: an odometer over
    /// the input index moving o by the output strides of the kept axes (0 on reduced axes).
    /// </summary>
    static void ForEach(int[] shape, bool[] red, Action<int, int> visit)
    {
        int rank = shape.Length;
        var keepShape = shape.Select((d, i) => red[i] ? 1 : d).ToArray();
        var ks = Shapes.Strides(keepShape);
        for (int i = 0; i < rank; i++) if (red[i]) ks[i] = 0;
        var idx = new int[rank];
        long n = Shapes.ElementCount(shape);
        int dst = 0;
        for (int i = 0; i < n; i++)
        {
            visit(i, dst);
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++; dst += ks[d];
                if (idx[d] < shape[d]) break;
                dst -= ks[d] * shape[d]; idx[d] = 0;
            }
        }
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        var xd = x.Data;
        var red = Reduced(x.Rank);
        long count = x.Length / Math.Max(y.Length, 1);
        // Sums accumulate in double (the float result is then rounded once).
        var acc = new double[y.Length];
        switch (Kind)
        {
            case ReduceKind.Max: Array.Fill(acc, double.NegativeInfinity); ForEach(x.ShapeArray, red, (i, o) => { if (xd[i] > acc[o] || double.IsNaN(xd[i])) acc[o] = xd[i]; }); break;
            case ReduceKind.Min: Array.Fill(acc, double.PositiveInfinity); ForEach(x.ShapeArray, red, (i, o) => { if (xd[i] < acc[o] || double.IsNaN(xd[i])) acc[o] = xd[i]; }); break;
            case ReduceKind.L2 or ReduceKind.SumSquare: ForEach(x.ShapeArray, red, (i, o) => acc[o] += (double)xd[i] * xd[i]); break;
            default: ForEach(x.ShapeArray, red, (i, o) => acc[o] += xd[i]); break;
        }
        for (int o = 0; o < y.Length; o++)
            y.Data[o] = (float)(Kind switch
            {
                ReduceKind.Mean => acc[o] / count,
                ReduceKind.L2 => Math.Sqrt(acc[o]),
                _ => acc[o],
            });
    }

    public override bool HasBackward => true;

    /// <summary>Sum and Mean read neither input nor output; SumSquare reads x; L2, Max and Min read x and y.</summary>
    public override bool BackwardReadsInput(int input) => Kind is not (ReduceKind.Sum or ReduceKind.Mean);

    public override bool BackwardReadsOutput(int output) => Kind is ReduceKind.L2 or ReduceKind.Max or ReduceKind.Min;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        // Buffers are shared by liveness and may be longer than their tensor: counts come from the tensors.
        var gy = ctx.OutputGrads[0];
        var g = gy.Data; var dx = gx.Data;
        var x = ctx.Inputs[0].Data; var y = ctx.Outputs[0].Data;
        var red = Reduced(gx.Rank);
        var shape = gx.ShapeArray;
        switch (Kind)
        {
            case ReduceKind.Sum: ForEach(shape, red, (i, o) => dx[i] += g[o]); break;
            case ReduceKind.Mean:
                float inv = (float)gy.Length / Math.Max(gx.Length, 1);
                ForEach(shape, red, (i, o) => dx[i] += g[o] * inv);
                break;
            case ReduceKind.SumSquare: ForEach(shape, red, (i, o) => dx[i] += 2 * g[o] * x[i]); break;
            case ReduceKind.L2: ForEach(shape, red, (i, o) => { if (y[o] != 0) dx[i] += g[o] * x[i] / y[o]; }); break;
            default:
                // Max/Min: count the ties of each output first, then share its gradient among them.
                var ties = new int[gy.Length];
                ForEach(shape, red, (i, o) => { if (x[i] == y[o]) ties[o]++; });
                ForEach(shape, red, (i, o) => { if (x[i] == y[o]) dx[i] += g[o] / ties[o]; });
                break;
        }
    }

    public override string Describe() => $"{Type}(axes=[{string.Join(",", Axes ?? [])}], keepdims={KeepDims})";
}
