using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit.FineTune.Reporting;

/// <summary>
/// Small PNG previews of dataset samples, decoded and resized by the Augment pipeline with the model's evaluation
/// framing (shorter side resized then centre-cropped, or an exact resize for models that resize exactly), without
/// normalisation so colours stay true.
/// </summary>
public sealed class Thumbnails : IDisposable
{
    /// <summary>Edge of a thumbnail, in pixels.</summary>
    public const int Size = 112;

    readonly SampleProcessor _processor = new();
    readonly TransformPipeline _pipeline;

    public Thumbnails(Preprocessing preprocessing)
    {
        _pipeline = preprocessing.ResizeShorterSide > 0
            ? new TransformPipeline(new Resize(Size), new CenterCrop(Size))
            : new TransformPipeline(new Resize(Size, Size));
    }

    /// <summary>PNG bytes of one sample; throws <see cref="ImageDecodeException"/> naming the file when it cannot be read.</summary>
    public byte[] Render(SampleSource source)
    {
        var s = _processor.Process(source, _pipeline, 0, 0, 0);
        return ImageIO.EncodePng(s.Pixels, s.Channels, s.Height, s.Width);
    }

    public void Dispose() => _processor.Dispose();
}
