using System.Numerics;
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

    /// <summary>
    /// Interleaved RGBA8 → planar RGB floats in [0, 1]. Vector path: each int lane holds one pixel
    /// (little-endian R | G≪8 | B≪16 | A≪24); mask and shift out a channel, convert to float, scale by 1/255.
    /// The scalar loop handles the row tail and is the reference.
    /// </summary>
    static unsafe void ToPlanar(byte* pixels, int rowBytes, int width, int height, Span<float> chw)
    {
        int plane = width * height;
        const float inv = 1f / 255f;
        int lanes = Vector<int>.Count;
        var mask = new Vector<int>(0xFF);
        var scale = new Vector<float>(inv);
        for (int y = 0; y < height; y++)
        {
            byte* row = pixels + (long)y * rowBytes;
            var rowPixels = new ReadOnlySpan<int>(row, width);
            var r = chw.Slice(y * width, width);
            var g = chw.Slice(plane + y * width, width);
            var b = chw.Slice(2 * plane + y * width, width);
            int x = 0;
            if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
            {
                for (; x <= width - lanes; x += lanes)
                {
                    var p = new Vector<int>(rowPixels[x..]);
                    (Vector.ConvertToSingle(p & mask) * scale).CopyTo(r[x..]);
                    (Vector.ConvertToSingle(Vector.ShiftRightLogical(p, 8) & mask) * scale).CopyTo(g[x..]);
                    (Vector.ConvertToSingle(Vector.ShiftRightLogical(p, 16) & mask) * scale).CopyTo(b[x..]);
                }
            }
            for (; x < width; x++)
            {
                r[x] = row[4 * x] * inv;
                g[x] = row[4 * x + 1] * inv;
                b[x] = row[4 * x + 2] * inv;
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
