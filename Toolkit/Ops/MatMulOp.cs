using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// MatMul with numpy semantics: 1-D operands are promoted (and the added axis removed), leading axes broadcast.
/// Gradient: dA = g·Bᵀ, dB = Aᵀ·g, each summed over broadcast batch axes.
/// </summary>
public sealed class MatMulOp : Op
{
    public override string Type => "MatMul";

    static (int[] A, int[] B) Promote(int[] a, int[] b) =>
        (a.Length == 1 ? [1, a[0]] : a, b.Length == 1 ? [b[0], 1] : b);

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var (a, b) = Promote(inputs[0], inputs[1]);
        if (a.Length < 1 || b.Length < 1) throw new ShapeException("MatMul of a scalar.");
        int m = a[^2], k = a[^1], kb = b[^2], n = b[^1];
        if (k != kb) throw new ShapeException($"MatMul inner dimensions differ: {k} and {kb}.");
        var batch = Shapes.Broadcast(a[..^2], b[..^2]);
        var r = new List<int>(batch);
        if (inputs[0].Length > 1) r.Add(m);
        if (inputs[1].Length > 1) r.Add(n);
        return [r.ToArray()];
    }

    public override void Forward(OpContext ctx)
    {
        var ta = ctx.Inputs[0]; var tb = ctx.Inputs[1]; var y = ctx.Outputs[0];
        var (a, b) = Promote(ta.ShapeArray, tb.ShapeArray);
        int m = a[^2], k = a[^1], n = b[^1];
        if (b.Length == 2)
        {
            // All of A's leading axes fold into M: one GEMM.
            int rows = ta.Length / Math.Max(k, 1);
            Gemm.Sgemm(false, false, rows, n, k, 1, ta.Span, k, tb.Span, n, 0, y.Span, n);
            return;
        }
        var batch = Shapes.Broadcast(a[..^2], b[..^2]);
        int count = (int)Shapes.ElementCount(batch);
        var bc = new Broadcast(a[..^2].Length == 0 ? [1] : a[..^2], b[..^2].Length == 0 ? [1] : b[..^2]);
        var offA = new int[count]; var offB = new int[count];
        int idx = 0;
        bc.ForEachRun((o, ia, ib, len, sa, sb) =>
        {
            for (int i = 0; i < len; i++) { offA[idx] = ia + i * sa; offB[idx] = ib + i * sb; idx++; }
        });
        for (int i = 0; i < count; i++)
            Gemm.Sgemm(false, false, m, n, k, 1, ta.Data.AsSpan(offA[i] * m * k, m * k), k, tb.Data.AsSpan(offB[i] * k * n, k * n), n, 0,
                y.Data.AsSpan(i * m * n, m * n), n);
    }

    public override bool HasBackward => true;

    /// <summary>Backward needs the operands only (for the other operand's gradient), never the product.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var ta = ctx.Inputs[0]; var tb = ctx.Inputs[1]; var g = ctx.OutputGrads[0];
        var ga = ctx.InputGrads[0]; var gb = ctx.InputGrads[1];
        var (a, b) = Promote(ta.ShapeArray, tb.ShapeArray);
        int m = a[^2], k = a[^1], n = b[^1];
        if (b.Length == 2)
        {
            int rows = ta.Length / Math.Max(k, 1);
            if (ga != null) Gemm.Sgemm(false, true, rows, k, n, 1, g.Span, n, tb.Span, n, 1, ga.Span, k);   // dA = G·Bᵀ
            if (gb != null) Gemm.Sgemm(true, false, k, n, rows, 1, ta.Span, k, g.Span, n, 1, gb.Span, n);   // dB = Aᵀ·G
            return;
        }
        var bc = new Broadcast(a[..^2].Length == 0 ? [1] : a[..^2], b[..^2].Length == 0 ? [1] : b[..^2]);
        var pairs = new List<(int A, int B)>();
        bc.ForEachRun((o, ia, ib, len, sa, sb) => { for (int i = 0; i < len; i++) pairs.Add((ia + i * sa, ib + i * sb)); });
        for (int i = 0; i < pairs.Count; i++)
        {
            var (oa, ob) = pairs[i];
            var gi = g.Data.AsSpan(i * m * n, m * n);
            // Batch items that share an operand (broadcast) accumulate into the same gradient slice.
            if (ga != null) Gemm.Sgemm(false, true, m, k, n, 1, gi, n, tb.Data.AsSpan(ob * k * n, k * n), n, 1, ga.Data.AsSpan(oa * m * k, m * k), k);
            if (gb != null) Gemm.Sgemm(true, false, k, n, m, 1, ta.Data.AsSpan(oa * m * k, m * k), k, gi, n, 1, gb.Data.AsSpan(ob * k * n, k * n), n);
        }
    }
}
