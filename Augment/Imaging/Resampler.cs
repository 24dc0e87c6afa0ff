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
    public void Render(SourceImage source, Affine2D outputToOriented, int width, int height, Span<float> chw)
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
        double sax = wa / W, say = ha / H, sbx = wb / W, sby = hb / H;

        // Output pixels per source pixel across the source's vertical (u = const) and horizontal (v = const) edges.
        double gu = Math.Sqrt(m.M11 * m.M11 + m.M12 * m.M12), gv = Math.Sqrt(m.M21 * m.M21 + m.M22 * m.M22);
        double invGu = gu > 0 ? 1 / gu : double.PositiveInfinity, invGv = gv > 0 ? 1 / gv : double.PositiveInfinity;

        int plane = width * height;
        var rOut = chw[..plane];
        var gOut = chw.Slice(plane, plane);
        var bOut = chw.Slice(2 * plane, plane);
        for (int y = 0; y < height; y++)
        {
            double u0 = m.M11 * 0.5 + m.M12 * (y + 0.5) + m.TX, v0 = m.M21 * 0.5 + m.M22 * (y + 0.5) + m.TY;
            int row = y * width;
            for (int x = 0; x < width; x++)
            {
                double u = u0 + m.M11 * x, v = v0 + m.M21 * x;
                double cu = 0.5 + Math.Min(u, W - u) * invGu, cv = 0.5 + Math.Min(v, H - v) * invGv;
                int o = row + x;
                if (!(cu > 0 && cv > 0))
                {
                    rOut[o] = 0; gOut[o] = 0; bOut[o] = 0;
                    continue;
                }
                float coverage = (float)(Math.Min(cu, 1) * Math.Min(cv, 1)) * Inv255;
                Bilinear(a, wa, ha, u * sax, v * say, out float r, out float g, out float bl);
                if (t > 0)
                {
                    Bilinear(b, wb, hb, u * sbx, v * sby, out float r2, out float g2, out float b2);
                    r += t * (r2 - r); g += t * (g2 - g); bl += t * (b2 - bl);
                }
                rOut[o] = r * coverage; gOut[o] = g * coverage; bOut[o] = bl * coverage;
            }
        }
    }

    /// <summary>Bilinear sample (0..255) of interleaved RGB at continuous coordinates, pixel centres at +0.5, clamped to the edge.</summary>
    static void Bilinear(ReadOnlySpan<byte> p, int w, int h, double u, double v, out float r, out float g, out float b)
    {
        double fx = u - 0.5, fy = v - 0.5;
        double flx = Math.Floor(fx), fly = Math.Floor(fy);
        float ax = (float)(fx - flx), ay = (float)(fy - fly);
        int x0 = (int)Math.Clamp(flx, -1, w), y0 = (int)Math.Clamp(fly, -1, h);
        int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        x0 = Math.Clamp(x0, 0, w - 1); y0 = Math.Clamp(y0, 0, h - 1);
        x1 = Math.Max(x1, 0); y1 = Math.Max(y1, 0);
        int i00 = 3 * (y0 * w + x0), i01 = 3 * (y0 * w + x1), i10 = 3 * (y1 * w + x0), i11 = 3 * (y1 * w + x1);
        r = Lerp2(p[i00], p[i01], p[i10], p[i11], ax, ay);
        g = Lerp2(p[i00 + 1], p[i01 + 1], p[i10 + 1], p[i11 + 1], ax, ay);
        b = Lerp2(p[i00 + 2], p[i01 + 2], p[i10 + 2], p[i11 + 2], ax, ay);
    }

    static float Lerp2(float p00, float p01, float p10, float p11, float ax, float ay)
    {
        float top = p00 + ax * (p01 - p00), bottom = p10 + ax * (p11 - p10);
        return top + ay * (bottom - top);
    }
}
