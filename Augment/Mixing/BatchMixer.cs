using TransferKit.Augment.Random;

namespace TransferKit.Augment.Mixing;

/// <summary>
/// Mixes a batch of NCHW images in place. Every draw (which method, λ, the partner of each row, the CutMix box) comes
/// from a counter generator keyed on (seed, step), so a resumed run mixes its batches exactly as an uninterrupted one.
/// </summary>
public sealed class BatchMixer(BatchMixing settings, ulong seed)
{
    /// <summary>Stream of the mixing draws in the counter generator.</summary>
    const int MixStream = 0x4D1C;

    float[] _copy = [];

    public BatchMixing Settings { get; } = settings;

    /// <summary>
    /// Mixes <paramref name="images"/> ([N, C, H, W] in row-major order) for training step <paramref name="step"/>: with
    /// mixup every row becomes λ·x_i + (1 − λ)·x_π(i); with CutMix a box of area ≈ (1 − λ)·H·W is pasted from x_π(i) and
    /// λ becomes the exact share of pixels left. Returns the targets to train against.
    /// </summary>
    public MixedTargets Mix(Span<float> images, int[] shape, int[] labels, long step)
    {
        if (!Settings.Enabled) throw new InvalidOperationException("Neither mixup nor cutmix is on.");
        if (shape.Length != 4) throw new ArgumentException($"Mixing needs an NCHW batch, got rank {shape.Length}.", nameof(shape));
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} images.", nameof(labels));
        var rng = new CounterRng(seed, step, -1, MixStream);
        bool cutmix = Settings.CutMixAlpha > 0 && (Settings.MixupAlpha <= 0 || rng.Bernoulli(BatchMixing.SwitchProbability));
        double lambda = rng.NextBeta(cutmix ? Settings.CutMixAlpha : Settings.MixupAlpha, cutmix ? Settings.CutMixAlpha : Settings.MixupAlpha);
        var partner = new int[n];
        rng.Permutation(partner);
        int plane = h * w, image = c * plane;
        if (_copy.Length < images.Length) _copy = new float[images.Length];
        var src = _copy.AsSpan(0, n * image);
        images[..(n * image)].CopyTo(src);
        if (!cutmix)
        {
            float l = (float)lambda, r = 1 - l;
            for (int i = 0; i < n; i++)
            {
                var dst = images.Slice(i * image, image);
                var other = src.Slice(partner[i] * image, image);
                for (int k = 0; k < image; k++) dst[k] = l * dst[k] + r * other[k];
            }
        }
        else
        {
            // The box: sides √(1 − λ) of the image's, centred uniformly, clipped to the image (timm's rand_bbox).
            double ratio = Math.Sqrt(1 - lambda);
            int ch = (int)(h * ratio), cw = (int)(w * ratio);
            int cy = rng.NextInt(h), cx = rng.NextInt(w);
            int y0 = Math.Clamp(cy - ch / 2, 0, h), y1 = Math.Clamp(cy + ch / 2, 0, h);
            int x0 = Math.Clamp(cx - cw / 2, 0, w), x1 = Math.Clamp(cx + cw / 2, 0, w);
            for (int i = 0; i < n; i++)
                for (int ci = 0; ci < c; ci++)
                    for (int y = y0; y < y1; y++)
                    {
                        int row = i * image + ci * plane + y * w, from = partner[i] * image + ci * plane + y * w;
                        src.Slice(from + x0, x1 - x0).CopyTo(images.Slice(row + x0, x1 - x0));
                    }
            lambda = 1 - (double)(y1 - y0) * (x1 - x0) / plane;
        }
        return new MixedTargets(labels, partner.Select(p => labels[p]).ToArray(), (float)lambda, cutmix ? "cutmix" : "mixup");
    }
}
