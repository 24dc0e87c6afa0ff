using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Preview;

/// <summary>
/// Draws augmented samples in a grid with their class names underneath, to check a transform spec by eye. The grid is
/// composed with ImageSharp and captioned with <see cref="BitmapFont"/>, so it needs no installed fonts.
/// Normalisation is left out so colours stay viewable.
/// </summary>
public static class PreviewGrid
{
    /// <summary>Height of the caption strip under each tile, in pixels.</summary>
    public const int CaptionHeight = 18;

    /// <summary>Gap between tiles, in pixels.</summary>
    public const int Gap = 4;

    /// <summary>Background colour between tiles.</summary>
    static readonly Rgb24 Background = new(32, 32, 32);

    /// <summary>Caption colour.</summary>
    static readonly Rgb24 Ink = new(255, 255, 255);

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
        var tiles = new List<(Image<Rgb24> Image, string Caption)>();
        using var processor = new SampleProcessor();
        try
        {
            for (int k = 0; k < count; k++)
            {
                int index = (int)((long)k * dataset.Count / count);
                try
                {
                    var img = processor.Process(dataset.GetSource(index), view, seed, 0, index);
                    tiles.Add((ImageIO.ToImage(img.Pixels, img.Channels, img.Height, img.Width), dataset.Classes[dataset.GetLabel(index)]));
                }
                catch (ImageDecodeException e)
                {
                    skipped.Add(new SkippedFile(index, e.Path, e.Reason));
                }
            }
            if (tiles.Count == 0) throw new InvalidOperationException("None of the chosen samples could be read; nothing to draw.");
            int tileW = tiles.Max(t => t.Image.Width), tileH = tiles.Max(t => t.Image.Height);
            int rows = (tiles.Count + columns - 1) / columns;
            int width = columns * (tileW + Gap) + Gap, height = rows * (tileH + CaptionHeight + Gap) + Gap;
            using var grid = new Image<Rgb24>(ImagingBackend.Configuration, width, height, Background);
            // Captions at 2× scale (14 px high) when they fit the tile, else 1×; cut to the tile's width.
            int scale = BitmapFont.GlyphHeight * 2 + 2 <= CaptionHeight ? 2 : 1;
            for (int i = 0; i < tiles.Count; i++)
            {
                int x = Gap + i % columns * (tileW + Gap), y = Gap + i / columns * (tileH + CaptionHeight + Gap);
                grid.Mutate(c => c.DrawImage(tiles[i].Image, new Point(x, y), 1f));
                int fit = scale;
                var caption = tiles[i].Caption;
                while (caption.Length > 0 && BitmapFont.Measure(caption) * fit > tileW - 2) caption = caption[..^1];
                int top = y + tileH + (CaptionHeight - BitmapFont.GlyphHeight * fit) / 2, right = x + tileW;
                BitmapFont.Draw(caption, x + 2, top, fit, (px, py) =>
                {
                    if (px < right && py < height) grid[px, py] = Ink;
                });
            }
            ImageIO.WriteAtomically(outputPath, ImageIO.Encode(grid, new PngEncoder { ColorType = PngColorType.Rgb }));
        }
        finally
        {
            foreach (var t in tiles) t.Image.Dispose();
        }
        return skipped;
    }
}
