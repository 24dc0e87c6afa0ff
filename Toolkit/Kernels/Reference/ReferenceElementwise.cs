using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>Scalar reference semantics of the elementwise kernels (the spec and the test oracle).</summary>
public static class ReferenceElementwise
{
    public static float Apply(BinaryKind kind, float x, float y) => kind switch
    {
        BinaryKind.Add => x + y,
        BinaryKind.Sub => x - y,
        BinaryKind.Mul => x * y,
        BinaryKind.Div => x / y,
        BinaryKind.Max => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : Math.Max(x, y),
        BinaryKind.Min => float.IsNaN(x) || float.IsNaN(y) ? float.NaN : Math.Min(x, y),
        BinaryKind.PRelu => x < 0 ? x * y : x,
        BinaryKind.Pow => MathF.Pow(x, y),
        BinaryKind.Equal => x == y ? 1 : 0,
        BinaryKind.Less => x < y ? 1 : 0,
        BinaryKind.Greater => x > y ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Broadcast binary op by explicit multi-index arithmetic.</summary>
    public static float[] Binary(BinaryKind kind, int[] shapeA, float[] a, int[] shapeB, float[] b, out int[] outShape)
    {
        outShape = Shapes.Broadcast(shapeA, shapeB);
        int rank = outShape.Length;
        var result = new float[Shapes.ElementCount(outShape)];
        var idx = new int[rank];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rem = flat;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = rem % outShape[d]; rem /= outShape[d]; }
            result[flat] = Apply(kind, a[Index(idx, shapeA)], b[Index(idx, shapeB)]);
        }
        return result;
    }

    static int Index(int[] outIdx, int[] shape)
    {
        int off = 0, rank = outIdx.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            int d = shape[i];
            int k = d == 1 ? 0 : outIdx[rank - shape.Length + i];
            off = off * d + k;
        }
        return off;
    }
}
