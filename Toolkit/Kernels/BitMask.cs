using System.Runtime.Intrinsics;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// One bit per element: the 0/1 derivative of Relu and Clip kept from the forward pass for backward, 1/32 of the
/// floats it replaces. Bit <c>i % 8</c> of byte <c>i / 8</c> is element i. The vector paths (8 floats to a byte) and
/// the scalar paths give the same bits and the same gradients.
/// </summary>
public static class BitMask
{
    /// <summary>Bytes of a mask over <paramref name="elements"/> elements.</summary>
    public static int Bytes(int elements) => (elements + 7) >> 3;

    /// <summary>
    /// Sets bit i of <paramref name="mask"/> to lo &lt; y[i] &lt; hi; a NaN <paramref name="hi"/> means no upper bound
    /// (Relu's mask y &gt; 0, +∞ included). A NaN y gets 0. <paramref name="y"/> starts at an element that is a multiple of 8.
    /// </summary>
    public static void PackOpenInterval(ReadOnlySpan<float> y, float lo, float hi, Span<byte> mask)
    {
        int i = 0, b = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lo); var vhi = Vector256.Create(hi);
            for (; i <= y.Length - 8; i += 8, b++)
            {
                var v = Vector256.Create(y.Slice(i, 8));
                var pass = Vector256.AndNot(Vector256.GreaterThan(v, vlo), Vector256.GreaterThanOrEqual(v, vhi));
                mask[b] = (byte)Vector256.ExtractMostSignificantBits(pass);
            }
        }
        for (; i < y.Length; i += 8, b++)
        {
            int bits = 0;
            for (int j = 0; j < 8 && i + j < y.Length; j++)
                if (Passes(y[i + j], lo, hi)) bits |= 1 << j;
            mask[b] = (byte)bits;
        }
    }

    /// <summary>The scalar rule of <see cref="PackOpenInterval"/>.</summary>
    public static bool Passes(float y, float lo, float hi) => y > lo && !(y >= hi);

    /// <summary>
    /// dx[i] = (bit i ? g[i] : 0), added into dx when <paramref name="add"/> (a masked element adds exactly 0).
    /// <paramref name="g"/> and <paramref name="dx"/> start at an element that is a multiple of 8.
    /// </summary>
    public static void Select(ReadOnlySpan<byte> mask, ReadOnlySpan<float> g, Span<float> dx, bool add)
    {
        int i = 0, b = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
            for (; i <= g.Length - 8; i += 8, b++)
            {
                var on = Vector256.Equals(Vector256.Create((int)mask[b]) & lanes, lanes).AsSingle();
                var masked = on & Vector256.Create(g.Slice(i, 8));
                if (add) masked += Vector256.Create((ReadOnlySpan<float>)dx.Slice(i, 8));
                masked.CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < g.Length; i++)
        {
            float v = (mask[i >> 3] >> (i & 7) & 1) != 0 ? g[i] : 0f;
            dx[i] = add ? dx[i] + v : v;
        }
    }
}
