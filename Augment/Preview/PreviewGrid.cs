using SkiaSharp;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Preview;

/// <summary>
/// Draws augmented samples in a grid with their class names underneath, to check a transform spec by eye.
/// Normalisation is left out so colours stay viewable. Text uses SkiaSharp's default typeface; when no font is
/// installed the labels may be blank but drawing still succeeds.
/// </summary>
public static class PreviewGrid
{
    /// <summary>Height of the caption strip under each tile, in pixels.</summary>
    public const int CaptionHeight = 18;

    /// <summary>Gap between tiles, in pixels.</summary>
    public const int Gap = 4;

    /// <summary>
    /// Renders <paramref name="count"/> samples (spread evenly over the dataset, epoch 0 of <paramref name="seed"/>)
    /// and writes a PNG atomically. Unreadable files are left out and returned.
    /// </summary>
    public static IReadOnlyList<SkippedFile> Render(ImageDataset dataset, TransformPipeline pipeline, ulong seed, int count,
        string outputPath, int columns = 0)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Count must be positive.");
        var view = pipeline.WithoutNormalization();
        count = Math.Min(count, dataset.Count);
        if (columns <= 0) columns = (int)Math.Ceiling(Math.Sqrt(count));
        var skipped = new List<SkippedFile>();
        var tiles = new List<(SKBitmap Bitmap, string Caption)>();
        using var processor = new SampleProcessor();
        try
        {
            for (int k = 0; k < count; k++)
            {
                int index = (int)((long)k * dataset.Count / count);
                try
                {
                    var img = processor.Process(dataset.GetSource(index), view, seed, 0, index);
                    var channels = img.Channels;
                    var pixels = img.Pixels;
                    tiles.Add((ImageIO.ToBitmap(pixels, channels, img.Height, img.Width), dataset.Classes[dataset.GetLabel(index)]));
                }
                catch (ImageDecodeException e)
                {
                    skipped.Add(new SkippedFile(index, e.Path, e.Reason));
                }
            }
            if (tiles.Count == 0) throw new InvalidOperationException("None of the chosen samples could be read; nothing to draw.");
            int tileW = tiles.Max(t => t.Bitmap.Width), tileH = tiles.Max(t => t.Bitmap.Height);
            int rows = (tiles.Count + columns - 1) / columns;
            int width = columns * (tileW + Gap) + Gap, height = rows * (tileH + CaptionHeight + Gap) + Gap;
            using var surface = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
            using (var canvas = new SKCanvas(surface))
            using (var font = new SKFont(SKTypeface.Default, 12))
            using (var paint = new SKPaint { Color = SKColors.White, IsAntialias = true })
            {
                canvas.Clear(new SKColor(32, 32, 32));
                for (int i = 0; i < tiles.Count; i++)
                {
                    int x = Gap + i % columns * (tileW + Gap), y = Gap + i / columns * (tileH + CaptionHeight + Gap);
                    canvas.DrawBitmap(tiles[i].Bitmap, x, y);
                    canvas.DrawText(tiles[i].Caption, x + 2, y + tileH + CaptionHeight - 5, SKTextAlign.Left, font, paint);
                }
            }
            using var image = SKImage.FromBitmap(surface);
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            ImageIO.WriteAtomically(outputPath, data.ToArray());
        }
        finally
        {
            foreach (var t in tiles) t.Bitmap.Dispose();
        }
        return skipped;
    }
}
