using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// A batch norm's per-channel map and the Relu or Clip after it in one pass over the plane: y = min(max(x·a + b, lo), hi)
/// and, for backward, the activation's derivative bits of the same y (<see cref="BitMask"/>'s rule: passLo &lt; y &lt;
/// passHi, a NaN passHi meaning no upper bound). The product and the sum round separately (no fused multiply-add, as
/// the batch norm's own pass) and the bounds apply as IEEE maximum then minimum (NaN propagates, −0 below +0, as the
/// activation's own pass; an infinite hi is skipped), so y and the bits are those of the two passes to the bit. The
/// bits may start anywhere in a byte: a plane of 7×7 starts at bit 49·k.
/// </summary>
public static class ScaleShiftClamp
{
    /// <summary>
    /// y[i] = clamp(x[i]·a + b) and, when <paramref name="mask"/> is not empty, bit <paramref name="bit0"/> + i of it
    /// set to whether y[i] passes; the mask's other bits are left as they were.
    /// </summary>
    public static unsafe void Apply(ReadOnlySpan<float> x, float a, float b, float lo, float hi, Span<float> y,
        Span<byte> mask = default, long bit0 = 0, float passLo = 0, float passHi = float.NaN)
    {
        if (y.Length < x.Length) throw new ArgumentException("y is shorter than x.", nameof(y));
        bool record = !mask.IsEmpty;
        if (record && (bit0 < 0 || (bit0 + x.Length + 7) >> 3 > mask.Length)) throw new ArgumentException("The mask does not cover the elements' bits.", nameof(mask));
        int n = x.Length, i = 0;
        bool upper = !float.IsPositiveInfinity(hi);
        fixed (float* px = x, py = y)
        fixed (byte* pm = mask)
        {
            // Elements one at a time until the bits reach a byte boundary, then whole bytes, then the rest one at a time.
            if (record) for (; i < n && ((bit0 + i) & 7) != 0; i++) SetBit(pm, bit0 + i, One(px, py, i, a, b, lo, hi, upper, passLo, passHi));
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b), vlo = Vector512.Create(lo), vhi = Vector512.Create(hi);
                Vector512<float> plo = Vector512.Create(passLo), phi = Vector512.Create(passHi);
                for (; i <= n - 16; i += 16)
                {
                    var v = Vector512.Max(Vector512.Load(px + i) * va + vb, vlo);
                    if (upper) v = Vector512.Min(v, vhi);
                    v.Store(py + i);
                    if (record)
                    {
                        var pass = Vector512.AndNot(Vector512.GreaterThan(v, plo), Vector512.GreaterThanOrEqual(v, phi));
                        Unsafe.WriteUnaligned(pm + ((bit0 + i) >> 3), (ushort)pass.ExtractMostSignificantBits());
                    }
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b), vlo = Vector256.Create(lo), vhi = Vector256.Create(hi);
                Vector256<float> plo = Vector256.Create(passLo), phi = Vector256.Create(passHi);
                for (; i <= n - 8; i += 8)
                {
                    var v = Vector256.Max(Vector256.Load(px + i) * va + vb, vlo);
                    if (upper) v = Vector256.Min(v, vhi);
                    v.Store(py + i);
                    if (record)
                    {
                        var pass = Vector256.AndNot(Vector256.GreaterThan(v, plo), Vector256.GreaterThanOrEqual(v, phi));
                        pm[(bit0 + i) >> 3] = (byte)pass.ExtractMostSignificantBits();
                    }
                }
            }
            for (; i < n; i++)
            {
                bool pass = One(px, py, i, a, b, lo, hi, upper, passLo, passHi);
                if (record) SetBit(pm, bit0 + i, pass);
            }
        }
    }

    /// <summary>Element i by the scalar rule; returns whether it passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe bool One(float* x, float* y, int i, float a, float b, float lo, float hi, bool upper, float passLo, float passHi)
    {
        float v = MathF.Max(x[i] * a + b, lo);
        if (upper) v = MathF.Min(v, hi);
        y[i] = v;
        return BitMask.Passes(v, passLo, passHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void SetBit(byte* mask, long bit, bool on)
    {
        byte* p = mask + (bit >> 3);
        int k = (int)(bit & 7);
        *p = (byte)((*p & ~(1 << k)) | ((on ? 1 : 0) << k));
    }
}
