using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>ReduceMean over axes (all when null), keeping reduced axes as 1 when <see cref="KeepDims"/>. Gradient: dx = g / count, broadcast.</summary>
public sealed class ReduceMeanOp(int[]? axes, bool keepDims) : Op
{
    public int[]? Axes { get; } = axes;
    public bool KeepDims { get; } = keepDims;
    public override string Type => "ReduceMean";

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

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        var red = Reduced(x.Rank);
        // Output strides per input axis (0 on reduced axes): each x element adds into y at Σ idx·stride.
        var keepShape = x.ShapeArray.Select((d, i) => red[i] ? 1 : d).ToArray();
        var ks = Shapes.Strides(keepShape);
        for (int i = 0; i < ks.Length; i++) if (red[i]) ks[i] = 0;
        long count = x.Length / Math.Max(y.Length, 1);
        var acc = new double[y.Length];
        var shape = x.ShapeArray; int rank = shape.Length;
        int inner = rank == 0 ? 1 : shape[rank - 1];
        int innerStride = rank == 0 ? 0 : ks[rank - 1];
        var idx = new int[Math.Max(rank - 1, 1)];
        int dst = 0;
        for (int s = 0; s < x.Length; s += inner)
        {
            if (innerStride == 0) { double t = 0; for (int i = 0; i < inner; i++) t += x.Data[s + i]; acc[dst] += t; }
            else for (int i = 0; i < inner; i++) acc[dst + i] += x.Data[s + i];
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; dst += ks[d];
                if (idx[d] < shape[d]) break;
                dst -= ks[d] * shape[d]; idx[d] = 0;
            }
        }
        for (int i = 0; i < y.Length; i++) y.Data[i] = (float)(acc[i] / count);
    }

    public override bool HasBackward => true;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0];
        var red = Reduced(gx.Rank);
        var keepShape = gx.ShapeArray.Select((d, i) => red[i] ? 1 : d).ToArray();
        var ks = Shapes.Strides(keepShape);
        var shape = gx.ShapeArray;
        float inv = (float)g.Length / Math.Max(gx.Length, 1);
        var idx = new int[shape.Length];
        // dx[i] = g[out(i)] / count, with out(i) the output element x[i] was averaged into.
        for (int flat = 0; flat < gx.Length; flat++)
        {
            int rem = flat, dst = 0;
            for (int d = shape.Length - 1; d >= 0; d--) { int v = rem % shape[d]; rem /= shape[d]; if (!red[d]) dst += v * ks[d]; }
            gx.Data[flat] += g.Data[dst] * inv;
        }
    }

    public override string Describe() => $"ReduceMean(axes=[{string.Join(",", Axes ?? [])}], keepdims={KeepDims})";
}
