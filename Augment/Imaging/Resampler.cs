using SkiaSharp;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Renders a <see cref="SourceImage"/> through one composed affine map into a planar float RGB buffer in
/// [0, 1]: the one resampling pass of the pipeline. Bilinear filtering, with linear mipmaps when the map
/// shrinks the source by more than <see cref="MipmapThreshold"/> so downscaling does not alias. Pixels that
/// map outside the source are 0 (torchvision's default fill). Holds a reusable target; one per thread.
/// </summary>
public sealed class Resampler : IDisposable
{
    /// <summary>Source pixels per output pixel above which mipmaps are used.</summary>
    public const double MipmapThreshold = 1.5;

    SKBitmap? _target;
    SKCanvas? _canvas;
    readonly SKPaint _paint = new() { IsAntialias = true, BlendMode = SKBlendMode.Src };

    /// <summary>
    /// Renders <paramref name="source"/> into <paramref name="chw"/> (3 × height × width floats, planar RGB).
    /// <paramref name="outputToOriented"/> maps output pixels to the source's oriented full-resolution pixels.
    /// </summary>
    public unsafe void Render(SourceImage source, Affine2D outputToOriented, int width, int height, Span<float> chw)
    {
        if (chw.Length < 3 * width * height)
            throw new ArgumentException($"Destination holds {chw.Length} floats; {3 * width * height} needed for 3×{height}×{width}.");
        EnsureTarget(width, height);
        var outToDecoded = source.OrientedToDecoded * outputToOriented;
        var srcToOut = outToDecoded.Inverse();
        var sampling = outToDecoded.MinStretch() > MipmapThreshold
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);
        var canvas = _canvas!;
        canvas.Clear(SKColors.Black);
        canvas.SetMatrix(new SKMatrix(
            (float)srcToOut.M11, (float)srcToOut.M12, (float)srcToOut.TX,
            (float)srcToOut.M21, (float)srcToOut.M22, (float)srcToOut.TY, 0, 0, 1));
        // Src blend with antialiasing fades partly covered edge pixels toward the black background.
        _paint.BlendMode = SKBlendMode.SrcOver;
        canvas.DrawImage(source.Image, 0, 0, sampling, _paint);
        canvas.ResetMatrix();
        canvas.Flush();
        ToPlanar((byte*)_target!.GetPixels(), _target.RowBytes, width, height, chw);
    }

    /// <summary>Interleaved RGBA8 → planar RGB floats in [0, 1].</summary>
    static unsafe void ToPlanar(byte* pixels, int rowBytes, int width, int height, Span<float> chw)
    {
        int plane = width * height;
        const float inv = 1f / 255f;
        fixed (float* dst = chw)
        {
            float* r = dst, g = dst + plane, b = dst + 2 * plane;
            for (int y = 0; y < height; y++)
            {
                byte* row = pixels + (long)y * rowBytes;
                int o = y * width;
                for (int x = 0; x < width; x++)
                {
                    r[o + x] = row[4 * x] * inv;
                    g[o + x] = row[4 * x + 1] * inv;
                    b[o + x] = row[4 * x + 2] * inv;
                }
            }
        }
    }

    void EnsureTarget(int width, int height)
    {
        if (_target is not null && _target.Width == width && _target.Height == height) return;
        _canvas?.Dispose();
        _target?.Dispose();
        _target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        _canvas = new SKCanvas(_target);
    }

    public void Dispose()
    {
        _canvas?.Dispose();
        _target?.Dispose();
        _paint.Dispose();
    }
}
