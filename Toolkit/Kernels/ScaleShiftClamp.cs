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
            var k = new Kernel(px, py, record ? pm : null, bit0, a, b, lo, hi, upper, passLo, passHi);
            // Elements one at a time until the bits reach a byte boundary, then whole bytes, then the rest one at a time.
            if (record) i = k.Run<Lane1>(i, (int)Math.Min(n, (8 - (bit0 & 7)) & 7));
            if (Vector512.IsHardwareAccelerated) i = k.Run<Lanes512>(i, n);
            if (Vector256.IsHardwareAccelerated) i = k.Run<Lanes256>(i, n);
            k.Run<Lane1>(i, n);
        }
    }

    /// <summary>The pass over the elements, written once over the lane type; one, eight or sixteen bits are stored at a time.</summary>
    readonly unsafe struct Kernel(float* x, float* y, byte* mask, long bit0, float a, float b, float lo, float hi, bool upper, float passLo, float passHi)
    {
        /// <summary>Elements [i, end) a register at a time (as many as whole registers fit); returns where it stopped.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<T>(int i, int end) where T : unmanaged, ILanes<T>
        {
            var shift = T.Create(b);
            for (; i <= end - T.Count; i += T.Count)
            {
                var v = T.Max(T.Load(x + i) * a + shift, lo);
                if (upper) v = T.Min(v, hi);
                T.Store(v, y + i);
                if (mask == null) continue;
                uint bits = T.PassBits(v, passLo, passHi);
                long at = bit0 + i;
                if (T.Count == 16) Unsafe.WriteUnaligned(mask + (at >> 3), (ushort)bits);
                else if (T.Count == 8) mask[at >> 3] = (byte)bits;
                else
                {
                    byte* p = mask + (at >> 3);
                    int k = (int)(at & 7);
                    *p = (byte)((*p & ~(1 << k)) | ((int)bits << k));
                }
            }
            return i;
        }
    }
}
