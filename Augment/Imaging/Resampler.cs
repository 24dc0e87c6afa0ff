using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Renders a <see cref="SourceImage"/> through one composed affine map into a planar float RGB buffer in [0, 1]: the
/// one resampling pass of the pipeline, TransferKit's own code over the decoded pixels. Each output pixel centre is
/// mapped into the source and sampled bilinearly (pixel centres at +0.5, edges clamped); when the map shrinks the
/// source by more than <see cref="MipmapThreshold"/> (least-stretched direction), the sample blends the two box-filtered
/// mipmap levels around log₂ of the shrink (trilinear), so downscaling does not alias. Output pixels whose footprint
/// leaves the source fade to 0 (torchvision's fill) by their distance to the source edge, measured in output pixels,
/// so an edge is antialiased and the identity map covers every pixel fully. Eight interior pixels at a time go through
/// an AVX2 path that equals the scalar reference bit for bit (gathered taps, same float operations in the same order);
/// edge pixels and machines without AVX2 use the scalar path. Stateless; safe to share.
/// </summary>
public sealed class Resampler
{
    /// <summary>Source pixels per output pixel above which mipmap levels are blended in.</summary>
    public const double MipmapThreshold = 1.5;

    const float Inv255 = 1f / 255f;

    /// <summary>
    /// Renders <paramref name="source"/> into <paramref name="chw"/> (3 × height × width floats, planar RGB).
    /// <paramref name="outputToOriented"/> maps output pixels to the source's oriented full-resolution pixels.
    /// </summary>
    public unsafe void Render(SourceImage source, Affine2D outputToOriented, int width, int height, Span<float> chw)
    {
        if (chw.Length < 3 * width * height)
            throw new ArgumentException($"Destination holds {chw.Length} floats; {3 * width * height} needed for 3×{height}×{width}.");
        var m = source.OrientedToDecoded * outputToOriented;

        // The level of detail is constant over an affine map: pick the two levels once.
        int lo = 0;
        float t = 0;
        double stretch = m.MinStretch();
        if (stretch > MipmapThreshold)
        {
            double lod = Math.Log2(stretch);
            int last = source.LevelCount - 1;
            lo = Math.Min((int)Math.Floor(lod), last);
            t = lo >= last ? 0f : (float)(lod - lo);
        }
        var a = source.Level(lo, out int wa, out int ha);
        ReadOnlySpan<byte> b = default;
        int wb = 0, hb = 0;
        if (t > 0) b = source.Level(lo + 1, out wb, out hb);
        double W = source.DecodedWidth, H = source.DecodedHeight;
        float fsax = (float)(wa / W), fsay = (float)(ha / H), fsbx = (float)(wb / W), fsby = (float)(hb / H);

        // Output pixels per source pixel across the source's vertical (u = const) and horizontal (v = const) edges.
        double gu = Math.Sqrt(m.M11 * m.M11 + m.M12 * m.M12), gv = Math.Sqrt(m.M21 * m.M21 + m.M22 * m.M22);
        double invGu = gu > 0 ? 1 / gu : double.PositiveInfinity, invGv = gv > 0 ? 1 / gv : double.PositiveInfinity;

        int plane = width * height;
        fixed (byte* pa = a, pb = b)
        fixed (float* outR = chw)
        {
            var k = new Kernel
            {
                A = pa, WA = wa, HA = ha, B = pb, WB = wb, HB = hb, T = t,
                SAX = fsax, SAY = fsay, SBX = fsbx, SBY = fsby,
                W = (float)W, H = (float)H, InvGu = (float)invGu, InvGv = (float)invGv,
                DU = (float)m.M11, DV = (float)m.M21,
            };
            bool vector = UseVector && Avx2.IsSupported;
            for (int y = 0; y < height; y++)
            {
                // Row start in double; along the row u = u0 + du·x in float (the vector path computes the same expression).
                float u0 = (float)(m.M11 * 0.5 + m.M12 * (y + 0.5) + m.TX), v0 = (float)(m.M21 * 0.5 + m.M22 * (y + 0.5) + m.TY);
                float* r = outR + y * width, g = outR + plane + y * width, b2 = outR + 2 * plane + y * width;
                int x = 0;
                if (vector)
                    for (; x <= width - 8; x += 8)
                        if (!k.Block8(u0, v0, x, r, g, b2))
                            for (int i = x; i < x + 8; i++) k.Pixel(u0, v0, i, r, g, b2);
                for (; x < width; x++) k.Pixel(u0, v0, x, r, g, b2);
            }
        }
    }

    /// <summary>Whether the AVX2 path may be used (tests switch it off to compare with the scalar reference).</summary>
    internal static bool UseVector { get; set; } = true;

    /// <summary>Everything one output pixel needs: the two levels, their scales, the edge distances' scales and the steps along a row.</summary>
    unsafe struct Kernel
    {
        public byte* A, B;
        public int WA, HA, WB, HB;
        public float T, SAX, SAY, SBX, SBY, W, H, InvGu, InvGv, DU, DV;

        /// <summary>The scalar reference for output pixel <paramref name="x"/> of a row starting at (u0, v0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Pixel(float u0, float v0, int x, float* outR, float* outG, float* outB)
        {
            float u = u0 + DU * x, v = v0 + DV * x;
            float cu = 0.5f + MathF.Min(u, W - u) * InvGu, cv = 0.5f + MathF.Min(v, H - v) * InvGv;
            if (!(cu > 0 && cv > 0))
            {
                outR[x] = 0; outG[x] = 0; outB[x] = 0;
                return;
            }
            float coverage = MathF.Min(cu, 1f) * MathF.Min(cv, 1f) * Inv255;
            Bilinear(A, WA, HA, u * SAX, v * SAY, out float r, out float g, out float b);
            if (T > 0)
            {
                Bilinear(B, WB, HB, u * SBX, v * SBY, out float r2, out float g2, out float b2);
                r += T * (r2 - r); g += T * (g2 - g); b += T * (b2 - b);
            }
            outR[x] = r * coverage; outG[x] = g * coverage; outB[x] = b * coverage;
        }

        /// <summary>
        /// Eight output pixels at once (AVX2), when all eight are fully inside the source and all their taps are interior;
        /// returns false otherwise and writes nothing, and the caller runs <see cref="Pixel"/> on them. Lanes are
        /// consecutive output pixels; every float operation is the scalar one in the same order, so results are bitwise
        /// equal to the reference.
        /// </summary>
        public readonly bool Block8(float u0, float v0, int x, float* outR, float* outG, float* outB)
        {
            var xs = Vector256.Create((float)x) + Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7);
            var u = Vector256.Create(u0) + Vector256.Create(DU) * xs;
            var v = Vector256.Create(v0) + Vector256.Create(DV) * xs;
            var half = Vector256.Create(0.5f);
            var cu = half + Vector256.Min(u, Vector256.Create(W) - u) * Vector256.Create(InvGu);
            var cv = half + Vector256.Min(v, Vector256.Create(H) - v) * Vector256.Create(InvGv);
            var one = Vector256<float>.One;
            if (!Vector256.GreaterThanOrEqualAll(cu, one) || !Vector256.GreaterThanOrEqualAll(cv, one)) return false;
            if (!Taps(A, WA, HA, u * Vector256.Create(SAX), v * Vector256.Create(SAY), out var r, out var g, out var b)) return false;
            if (T > 0)
            {
                if (!Taps(B, WB, HB, u * Vector256.Create(SBX), v * Vector256.Create(SBY), out var r2, out var g2, out var b2)) return false;
                var t = Vector256.Create(T);
                r += t * (r2 - r); g += t * (g2 - g); b += t * (b2 - b);
            }
            // Full coverage: min(cu, 1)·min(cv, 1)·(1/255) is exactly 1/255, as in the scalar path.
            var c = Vector256.Create(1f * 1f * Inv255);
            (r * c).Store(outR + x); (g * c).Store(outG + x); (b * c).Store(outB + x);
            return true;
        }

        /// <summary>
        /// Bilinear samples of eight positions when all four taps of each are inside the level. Taps are gathered as
        /// 32-bit words at byte offsets: a left tap reads its R, G, B and the next pixel's R (it always has a right
        /// neighbour); a right tap reads from one byte before its R and shifts that byte out, so no read passes the end
        /// of the pixels.
        /// </summary>
        static bool Taps(byte* p, int w, int h, Vector256<float> us, Vector256<float> vs,
            out Vector256<float> r, out Vector256<float> g, out Vector256<float> b)
        {
            var half = Vector256.Create(0.5f);
            var fx = us - half;
            var fy = vs - half;
            var flx = Avx.Floor(fx);
            var fly = Avx.Floor(fy);
            var zero = Vector256<float>.Zero;
            bool inside = Vector256.GreaterThanOrEqualAll(flx, zero) && Vector256.GreaterThanOrEqualAll(fly, zero)
                && Vector256.LessThanAll(flx, Vector256.Create((float)(w - 1))) && Vector256.LessThanAll(fly, Vector256.Create((float)(h - 1)));
            if (!inside) { r = g = b = default; return false; }
            var ax = fx - flx;
            var ay = fy - fly;
            var x0 = Avx.ConvertToVector256Int32WithTruncation(flx);
            var y0 = Avx.ConvertToVector256Int32WithTruncation(fly);
            var i00 = (y0 * Vector256.Create(w) + x0) * Vector256.Create(3);
            var row = Vector256.Create(3 * w);
            var i10 = i00 + row;
            var p00 = Avx2.GatherVector256((int*)p, i00, 1);
            var p10 = Avx2.GatherVector256((int*)p, i10, 1);
            var p01 = Avx2.ShiftRightLogical(Avx2.GatherVector256((int*)p, i00 + Vector256.Create(2), 1), 8);
            var p11 = Avx2.ShiftRightLogical(Avx2.GatherVector256((int*)p, i10 + Vector256.Create(2), 1), 8);
            r = Channel(p00, p01, p10, p11, 0, ax, ay);
            g = Channel(p00, p01, p10, p11, 8, ax, ay);
            b = Channel(p00, p01, p10, p11, 16, ax, ay);
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Channel(Vector256<int> p00, Vector256<int> p01, Vector256<int> p10, Vector256<int> p11, byte shift,
            Vector256<float> ax, Vector256<float> ay)
        {
            var mask = Vector256.Create(0xFF);
            var c00 = Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(p00, shift) & mask);
            var c01 = Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(p01, shift) & mask);
            var c10 = Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(p10, shift) & mask);
            var c11 = Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(p11, shift) & mask);
            var top = c00 + ax * (c01 - c00);
            var bottom = c10 + ax * (c11 - c10);
            return top + ay * (bottom - top);
        }
    }

    /// <summary>
    /// Bilinear sample (0..255) of interleaved RGB at continuous coordinates, pixel centres at +0.5, clamped to the edge.
    /// The common case (all four taps inside) takes one branch; only edge pixels clamp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Bilinear(byte* p, int w, int h, float u, float v, out float r, out float g, out float b)
    {
        float fx = u - 0.5f, fy = v - 0.5f;
        float flx = MathF.Floor(fx), fly = MathF.Floor(fy);
        float ax = fx - flx, ay = fy - fly;
        int x0, y0, dx, dy;
        if (flx >= 0 && fly >= 0 && flx < w - 1 && fly < h - 1)
        {
            x0 = (int)flx; y0 = (int)fly; dx = 3; dy = 3 * w;
        }
        else
        {
            // Clamp each tap to the edge (a 1-pixel-wide image has both taps on its one column).
            int ix = (int)Math.Clamp(flx, -1f, w), iy = (int)Math.Clamp(fly, -1f, h);
            x0 = Math.Clamp(ix, 0, w - 1); y0 = Math.Clamp(iy, 0, h - 1);
            dx = 3 * (Math.Clamp(ix + 1, 0, w - 1) - x0); dy = 3 * w * (Math.Clamp(iy + 1, 0, h - 1) - y0);
        }
        byte* q = p + 3 * ((long)y0 * w + x0);
        r = Lerp2(q[0], q[dx], q[dy], q[dx + dy], ax, ay);
        g = Lerp2(q[1], q[dx + 1], q[dy + 1], q[dx + dy + 1], ax, ay);
        b = Lerp2(q[2], q[dx + 2], q[dy + 2], q[dx + dy + 2], ax, ay);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Lerp2(float p00, float p01, float p10, float p11, float ax, float ay)
    {
        float top = p00 + ax * (p01 - p00), bottom = p10 + ax * (p11 - p10);
        return top + ay * (bottom - top);
    }
}
