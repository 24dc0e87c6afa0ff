using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Gemm: Y = alpha·op(A)·op(B) + beta·C, A and B 2-D, C broadcast to [M, N].
/// Gradient: dA = alpha·g·op(B)ᵀ, dB = alpha·op(A)ᵀ·g (transposed back as needed), dC = beta·g summed over broadcast.
/// </summary>
public sealed class GemmOp(bool transA, bool transB, float alpha, float beta) : Op
{
    public bool TransA { get; } = transA;
    public bool TransB { get; } = transB;
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public override string Type => "Gemm";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var a = inputs[0]; var b = inputs[1];
        if (a.Length != 2 || b.Length != 2) throw new ShapeException("Gemm inputs A and B must be 2-D.");
        int m = TransA ? a[1] : a[0], k = TransA ? a[0] : a[1];
        int kb = TransB ? b[1] : b[0], n = TransB ? b[0] : b[1];
        if (k != kb) throw new ShapeException($"Gemm inner dimensions differ: {k} and {kb}.");
        if (inputs.Count > 2) Shapes.Broadcast(inputs[2], [m, n]);
        return [[m, n]];
    }

    public override void Forward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1]; var y = ctx.Outputs[0];
        int m = y.Dim(0), n = y.Dim(1), k = TransA ? a.Dim(0) : a.Dim(1);
        float beta = 0;
        if (ctx.Inputs.Length > 2 && Beta != 0)
        {
            // Y ← beta·C broadcast to [M, N], then Y += alpha·op(A)·op(B).
            var c = ctx.Inputs[2];
            var bc = new Broadcast(c.Shape, [m, n]);
            var dst = y.Data;
            bc.ForEachRun((o, ic, _, len, sc, _) =>
            {
                // C is the "a" operand; its stride is 0 (repeated scalar) or 1 (a contiguous run).
                if (sc == 0) dst.AsSpan(o, len).Fill(Beta * c.Data[ic]);
                else System.Numerics.Tensors.TensorPrimitives.Multiply(c.Data.AsSpan(ic, len), Beta, dst.AsSpan(o, len));
            });
            beta = 1;
        }
        Gemm.Sgemm(TransA, TransB, m, n, k, Alpha, a.Span, a.Dim(1), b.Span, b.Dim(1), beta, y.Span, n);
    }

    public override bool HasBackward => true;

    /// <summary>Backward needs the operands only (for the other operand's gradient), never the product.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1]; var g = ctx.OutputGrads[0];
        int m = g.Dim(0), n = g.Dim(1), k = TransA ? a.Dim(0) : a.Dim(1);
        int lda = a.Dim(1), ldb = b.Dim(1);
        if (ctx.InputGrads[0] is { } ga)
        {
            if (!TransA) Gemm.Sgemm(false, !TransB, m, k, n, Alpha, g.Span, n, b.Span, ldb, 1, ga.Span, k);      // dA = α·G·op(B)ᵀ
            else Gemm.Sgemm(TransB, true, k, m, n, Alpha, b.Span, ldb, g.Span, n, 1, ga.Span, m);                // dA = α·op(B)·Gᵀ
        }
        if (ctx.InputGrads[1] is { } gb)
        {
            if (!TransB) Gemm.Sgemm(!TransA, false, k, n, m, Alpha, a.Span, lda, g.Span, n, 1, gb.Span, n);      // dB = α·op(A)ᵀ·G
            else Gemm.Sgemm(true, TransA, n, k, m, Alpha, g.Span, n, a.Span, lda, 1, gb.Span, k);                // dB = α·Gᵀ·op(A)
        }
        if (ctx.InputGrads.Length > 2 && ctx.InputGrads[2] is { } gc)
        {
            var gd = g.Data; var cd = gc.Data; float beta = Beta;
            new Broadcast(ctx.Inputs[2].Shape, [m, n]).ForEachRun((o, ic, _, len, sc, _) =>
            {
                for (int i = 0; i < len; i++) cd[ic + i * sc] += beta * gd[o + i];                         // dC = β·G summed over broadcast
            });
        }
    }

    public override string Describe() => $"Gemm(transA={TransA}, transB={TransB}, alpha={Alpha}, beta={Beta})";
}
