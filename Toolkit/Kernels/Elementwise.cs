using System.Numerics.Tensors;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>Binary arithmetic the broadcast driver can run.</summary>
public enum BinaryKind
{
    Add, Sub, Mul, Div, Max, Min, PRelu, Pow,
    /// <summary>Comparisons give a float mask: 1 where the relation holds, 0 elsewhere.</summary>
    Equal, Less, Greater,
}

/// <summary>
/// Elementwise kernels over spans. Contiguous runs go to <see cref="TensorPrimitives"/> (Vector512/256/128 inside);
/// the scalar reference semantics of each kind are <see cref="Reference.ReferenceElementwise.Apply"/>.
/// </summary>
public static class Elementwise
{
    /// <summary>out = a ⊕ b with numpy broadcasting described by <paramref name="bc"/>.</summary>
    public static void Binary(BinaryKind kind, Broadcast bc, float[] a, float[] b, float[] output)
    {
        int inner = bc.Dims[^1];
        if (bc.Dims.Length == 1)
        {
            // One run: split it across threads when large.
            int sa = bc.StrideA[0], sb = bc.StrideB[0];
            Workers.For(inner, 1, (s, e) => Run(kind, a, sa == 0 ? 0 : s, sa, b, sb == 0 ? 0 : s, sb, output.AsSpan(s, e - s)));
            return;
        }
        bc.ForEachRun((o, ia, ib, n, sa, sb) => Run(kind, a, ia, sa, b, ib, sb, output.AsSpan(o, n)));
    }

    /// <summary>One innermost run; each operand is a contiguous run (stride 1) or a repeated scalar (stride 0).</summary>
    static void Run(BinaryKind kind, float[] a, int ia, int sa, float[] b, int ib, int sb, Span<float> dst)
    {
        int n = dst.Length;
        if (kind >= BinaryKind.Equal)
        {
            // Comparisons (masks for Where) are not on a hot path: the scalar reference, operand index = base + i·stride.
            for (int i = 0; i < n; i++) dst[i] = Reference.ReferenceElementwise.Apply(kind, a[ia + i * sa], b[ib + i * sb]);
            return;
        }
        if (sa == 1 && sb == 1)
        {
            ReadOnlySpan<float> x = a.AsSpan(ia, n), y = b.AsSpan(ib, n);
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(x, y, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(x, y, dst); break;
                case BinaryKind.Div: TensorPrimitives.Divide(x, y, dst); break;
                case BinaryKind.Max: TensorPrimitives.Max(x, y, dst); break;
                case BinaryKind.Min: TensorPrimitives.Min(x, y, dst); break;
                case BinaryKind.PRelu: for (int i = 0; i < n; i++) dst[i] = x[i] < 0 ? x[i] * y[i] : x[i]; break;
                case BinaryKind.Pow: TensorPrimitives.Pow(x, y, dst); break;
            }
        }
        else if (sa == 1)
        {
            ReadOnlySpan<float> x = a.AsSpan(ia, n); float y = b[ib];
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(x, y, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(x, y, dst); break;
                case BinaryKind.Div: TensorPrimitives.Divide(x, y, dst); break;
                case BinaryKind.Max: TensorPrimitives.Max(x, y, dst); break;
                case BinaryKind.Min: TensorPrimitives.Min(x, y, dst); break;
                case BinaryKind.PRelu: for (int i = 0; i < n; i++) dst[i] = x[i] < 0 ? x[i] * y : x[i]; break;
                case BinaryKind.Pow: PowScalarExponent(x, y, dst); break;
            }
        }
        else if (sb == 1)
        {
            float x = a[ia]; ReadOnlySpan<float> y = b.AsSpan(ib, n);
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(y, x, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(x, y, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(y, x, dst); break;
                case BinaryKind.Div: TensorPrimitives.Divide(x, y, dst); break;
                case BinaryKind.Max: TensorPrimitives.Max(y, x, dst); break;
                case BinaryKind.Min: TensorPrimitives.Min(y, x, dst); break;
                case BinaryKind.PRelu: for (int i = 0; i < n; i++) dst[i] = x < 0 ? x * y[i] : x; break;
                case BinaryKind.Pow: TensorPrimitives.Pow(x, y, dst); break;
            }
        }
        else dst.Fill(Reference.ReferenceElementwise.Apply(kind, a[ia], b[ib]));
    }

    /// <summary>
    /// xᵉ for one exponent: the exponents exporters write (2 of a variance, 0.5, 1, 3) as products, the rest by
    /// <c>TensorPrimitives.Pow(x, e, y)</c>. Equals MathF.Pow(x, e) per element
    /// up to rounding (x² is exact as x·x).
    /// </summary>
    static void PowScalarExponent(ReadOnlySpan<float> x, float e, Span<float> dst)
    {
        switch (e)
        {
            case 1f: x.CopyTo(dst); break;
            case 2f: TensorPrimitives.Multiply(x, x, dst); break;
            case 3f: TensorPrimitives.Multiply(x, x, dst); TensorPrimitives.Multiply(dst, x, dst); break;
            case 0.5f: TensorPrimitives.Sqrt(x, dst); break;
            default: TensorPrimitives.Pow(x, e, dst); break;
        }
    }
}
