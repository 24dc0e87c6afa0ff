using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// What a model does to an image before its first layer, as numbers: from RGB pixels in 0–255, reorder channels
/// (BGR when <see cref="Bgr"/>), scale to 0–<see cref="Range"/>, then <c>(x − mean[c]) / std[c]</c> with mean and std
/// in the model's channel order and range. This is what <see cref="ExportOptions.BakePreprocess"/> writes into a graph.
/// </summary>
/// <param name="Bgr">The model wants blue first.</param>
/// <param name="Range">The value a full-intensity channel has before mean/std: 1 (0–1) or 255 (0–255).</param>
/// <param name="Mean">Per-channel mean (one value for all channels, or three).</param>
/// <param name="Std">Per-channel std (one value for all channels, or three), positive.</param>
public sealed record InputNormalization(bool Bgr, float Range, float[] Mean, float[] Std)
{
    /// <summary>Channels of the raw input (and of the model input).</summary>
    public const int Channels = 3;

    /// <summary>Checks the numbers; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public void Validate()
    {
        if (!(Range > 0) || float.IsInfinity(Range)) throw new ArgumentException($"Input normalization range must be positive (got {Range}).");
        if (Mean.Length is not (1 or Channels) || Std.Length != Mean.Length)
            throw new ArgumentException($"Input normalization needs 1 or {Channels} means and as many stds (got {Mean.Length} and {Std.Length}).");
        if (Std.Any(s => !(s > 0) || float.IsInfinity(s))) throw new ArgumentException($"Input normalization std values must be positive (got {string.Join(", ", Std)}).");
        if (Mean.Any(m => !float.IsFinite(m))) throw new ArgumentException($"Input normalization mean values must be finite (got {string.Join(", ", Mean)}).");
    }

    /// <summary>Which raw (RGB) channel model channel <paramref name="c"/> is read from.</summary>
    public int SourceChannel(int c) => Bgr ? Channels - 1 - c : c;

    /// <summary>Model channel c = raw[SourceChannel(c)]·Scale(c) + Shift(c).</summary>
    public double Scale(int c) => Range / 255.0 / Std[Std.Length == 1 ? 0 : c];

    /// <summary>Model channel c = raw[SourceChannel(c)]·Scale(c) + Shift(c).</summary>
    public double Shift(int c) => -Mean[Mean.Length == 1 ? 0 : c] / (double)Std[Std.Length == 1 ? 0 : c];

    /// <summary>Raw RGB 0–255 NCHW → the model's input (the reference the baked graph must match).</summary>
    public Tensor Normalize(Tensor raw) => Map(raw, toModel: true);

    /// <summary>The model's input → the raw RGB 0–255 NCHW image it came from (the inverse of <see cref="Normalize"/>).</summary>
    public Tensor Unnormalize(Tensor normalized) => Map(normalized, toModel: false);

    Tensor Map(Tensor x, bool toModel)
    {
        if (x.Rank != 4 || x.Dim(1) != Channels)
            throw new ArgumentException($"Input normalization works on N×{Channels}×H×W tensors (got {Shapes.Format(x.ShapeArray)}).");
        var y = new Tensor(x.ShapeArray);
        int plane = x.Dim(2) * x.Dim(3);
        var src = x.Span; var dst = y.Span;
        for (int n = 0; n < x.Dim(0); n++)
            for (int c = 0; c < Channels; c++)
            {
                // Model channel c reads raw channel SourceChannel(c); the inverse writes it back there.
                int modelOffset = (n * Channels + c) * plane, rawOffset = (n * Channels + SourceChannel(c)) * plane;
                double a = Scale(c), b = Shift(c);
                for (int p = 0; p < plane; p++)
                {
                    if (toModel) dst[modelOffset + p] = (float)(src[rawOffset + p] * a + b);
                    else dst[rawOffset + p] = (float)((src[modelOffset + p] - b) / a);
                }
            }
        return y;
    }
}
