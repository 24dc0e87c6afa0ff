using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Transpose: y[i_perm[0], …] = x[i_0, …]. Gradient: dx = transpose(g, inverse perm).</summary>
public sealed class TransposeOp(int[]? perm) : Op
{
    /// <summary>The permutation; null reverses the axes (ONNX default).</summary>
    public int[]? Perm { get; } = perm;
    public override string Type => "Transpose";

    public int[] PermFor(int rank)
    {
        var p = Perm ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (p.Length != rank || p.OrderBy(v => v).Where((v, i) => v != i).Any())
            throw new ShapeException($"Transpose perm [{string.Join(",", p)}] does not fit rank {rank}.");
        return p;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0]; var p = PermFor(x.Length);
        return [p.Select(a => x[a]).ToArray()];
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0];
        Permute(x.Data, x.ShapeArray, PermFor(x.Rank), ctx.Outputs[0].Data);
    }

    /// <summary>Copies x into y with y's axis i = x's axis perm[i].</summary>
    public static void Permute(float[] x, int[] shape, int[] perm, float[] y)
    {
        int rank = shape.Length;
        int n = (int)Shapes.ElementCount(shape);
        if (n == 0) return;
        var xs = Shapes.Strides(shape);
        var outShape = perm.Select(a => shape[a]).ToArray();
        var srcStride = perm.Select(a => xs[a]).ToArray(); // stride in x for each output axis
        int inner = rank == 0 ? 1 : outShape[rank - 1];
        int innerStride = rank == 0 ? 1 : srcStride[rank - 1];
        var idx = new int[Math.Max(rank - 1, 1)];
        int src = 0;
        for (int o = 0; o < n; o += inner)
        {
            if (innerStride == 1) Array.Copy(x, src, y, o, inner);
            else for (int i = 0, s = src; i < inner; i++, s += innerStride) y[o + i] = x[s];
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++; src += srcStride[d];
                if (idx[d] < outShape[d]) break;
                src -= srcStride[d] * outShape[d]; idx[d] = 0;
            }
        }
    }

    public override bool HasBackward => true;

    /// <summary>Backward moves the output gradient back into place; it reads no values.</summary>
    public override bool BackwardReadsInput(int input) => false;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var p = PermFor(gx.Rank);
        var inv = new int[p.Length];
        for (int i = 0; i < p.Length; i++) inv[p[i]] = i;
        var tmp = new float[gx.Length];
        Permute(ctx.OutputGrads[0].Data, ctx.OutputGrads[0].ShapeArray, inv, tmp);
        System.Numerics.Tensors.TensorPrimitives.Add(gx.Span, tmp, gx.Span);
    }

    public override string Describe() => Perm == null ? "Transpose" : $"Transpose[{string.Join(",", Perm)}]";
}
