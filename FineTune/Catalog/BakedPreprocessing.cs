using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Catalog;

/// <summary>A preprocessing convention as the numbers the exporter bakes into a graph (<see cref="ExportOptions.BakePreprocess"/>).</summary>
public static class BakedPreprocessing
{
    /// <summary>The channel order, range, mean and std of <paramref name="p"/>; only 3-channel conventions can be baked.</summary>
    /// <exception cref="NotSupportedException">A 1-channel (grayscale) convention: its model does not take RGB.</exception>
    public static InputNormalization From(Preprocessing p)
    {
        if (p.Channels != InputNormalization.Channels)
            throw new NotSupportedException($"Preprocessing '{p.Name}' feeds {p.Channels} channel(s); baking it needs a model with an RGB (3-channel) input.");
        var n = new InputNormalization(p.Order == ChannelOrder.Bgr, p.Range == ValueRange.Byte ? 255f : 1f, (float[])p.Mean.Clone(), (float[])p.Std.Clone());
        n.Validate();
        return n;
    }
}
