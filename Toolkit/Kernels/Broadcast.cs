using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// A numpy broadcast of two operands, reduced to as few dimensions as possible: adjacent dimensions are merged
/// when both operands step through them the same way, so [N,C,H,W] ⊕ [1,C,1,1] becomes [N,C,HW] with strides
/// (C·HW,HW,1) and (0,1,0). The innermost dimension is then run by a vector kernel.
/// </summary>
public sealed class Broadcast
{
    public int[] OutShape { get; }
    /// <summary>Merged dimensions and the element strides of A and B in them (0 where broadcast).</summary>
    public int[] Dims { get; }
    public int[] StrideA { get; }
    public int[] StrideB { get; }
    public int Length { get; }

    public Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        OutShape = Shapes.Broadcast(a, b);
        int rank = OutShape.Length;
        var sa = AlignedStrides(a, rank);
        var sb = AlignedStrides(b, rank);
        var dims = new List<int>(); var la = new List<int>(); var lb = new List<int>();
        for (int i = 0; i < rank; i++)
        {
            int d = OutShape[i];
            if (d == 1) continue; // size-1 dimensions do not move either operand
            int ia = OutStride(sa, i, d), ib = OutStride(sb, i, d);
            int last = dims.Count - 1;
            // Merge with the previous dimension when each operand's stride there equals its stride here times d.
            if (last >= 0 && la[last] == ia * d && lb[last] == ib * d)
            {
                dims[last] *= d; la[last] = ia; lb[last] = ib;
            }
            else { dims.Add(d); la.Add(ia); lb.Add(ib); }
        }
        if (dims.Count == 0) { dims.Add(1); la.Add(0); lb.Add(0); }
        Dims = dims.ToArray(); StrideA = la.ToArray(); StrideB = lb.ToArray();
        Length = (int)Shapes.ElementCount(OutShape);
    }

    static int OutStride(int[] s, int i, int d) => s[i];

    /// <summary>Strides of a shape right-aligned to rank, 0 on broadcast (size-1 or missing) dimensions.</summary>
    static int[] AlignedStrides(ReadOnlySpan<int> shape, int rank)
    {
        var s = new int[rank];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[rank - shape.Length + i] = shape[i] == 1 ? 0 : acc;
            acc *= shape[i];
        }
        return s;
    }

    /// <summary>
    /// Calls run(outOffset, aOffset, bOffset, count, aStride, bStride) for every innermost run of the broadcast,
    /// where the strides are 0 or 1.
    /// </summary>
    public void ForEachRun(RunAction run)
    {
        int r = Dims.Length;
        int inner = Dims[r - 1];
        int outer = Length / Math.Max(inner, 1);
        if (Length == 0) return;
        Span<int> idx = stackalloc int[Math.Max(r - 1, 1)];
        idx.Clear();
        int offA = 0, offB = 0;
        for (int o = 0; o < outer; o++)
        {
            run(o * inner, offA, offB, inner, StrideA[r - 1], StrideB[r - 1]);
            // Odometer increment over the outer dimensions.
            for (int d = r - 2; d >= 0; d--)
            {
                idx[d]++; offA += StrideA[d]; offB += StrideB[d];
                if (idx[d] < Dims[d]) break;
                offA -= StrideA[d] * Dims[d]; offB -= StrideB[d] * Dims[d]; idx[d] = 0;
            }
        }
    }

    public delegate void RunAction(int outOffset, int aOffset, int bOffset, int count, int aStride, int bStride);
}
