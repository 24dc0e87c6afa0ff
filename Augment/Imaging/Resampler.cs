using System.Runtime.CompilerServices;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Renders a <see cref="SourceImage"/> through one composed affine map into a planar float RGB buffer in [0, 1]: the
/// one resampling pass of the pipeline, TransferKit's own code over the decoded pixels. Each output pixel centre is
/// mapped into the source and sampled bilinearly (pixel centres at +0.5, edges clamped); when the map shrinks the
/// source by more than <see cref="MipmapThreshold"/> (least-stretched direction), the sample blends the two box-filtered
/// mipmap levels around log₂ of the shrink (trilinear), so downscaling does not alias. Output pixels whose footprint
/// leaves the source fade to 0 (torchvision's fill) by their distance to the source edge, measured in output pixels,
/// so an edge is antialiased and the identity map covers every pixel fully. Stateless; safe to share.
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
            float* outG = outR + plane, outB = outR + 2 * plane;
            float fW = (float)W, fH = (float)H, fInvGu = (float)invGu, fInvGv = (float)invGv;
            float du = (float)m.M11, dv = (float)m.M21;
            for (int y = 0; y < height; y++)
            {
                // Positions are recomputed in double at each row start and stepped in float along the row.
                float u = (float)(m.M11 * 0.5 + m.M12 * (y + 0.5) + m.TX), v = (float)(m.M21 * 0.5 + m.M22 * (y + 0.5) + m.TY);
                float* r0 = outR + y * width, g0 = outG + y * width, b0 = outB + y * width;
                for (int x = 0; x < width; x++, u += du, v += dv)
                {
                    float cu = 0.5f + MathF.Min(u, fW - u) * fInvGu, cv = 0.5f + MathF.Min(v, fH - v) * fInvGv;
                    if (!(cu > 0 && cv > 0))
                    {
                        r0[x] = 0; g0[x] = 0; b0[x] = 0;
                        continue;
                    }
                    float coverage = MathF.Min(cu, 1f) * MathF.Min(cv, 1f) * Inv255;
                    Bilinear(pa, wa, ha, u * fsax, v * fsay, out float r, out float g, out float bl);
                    if (t > 0)
                    {
                        Bilinear(pb, wb, hb, u * fsbx, v * fsby, out float r2, out float g2, out float b2);
                        r += t * (r2 - r); g += t * (g2 - g); bl += t * (b2 - bl);
                    }
                    r0[x] = r * coverage; g0[x] = g * coverage; b0[x] = bl * coverage;
                }
            }
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
