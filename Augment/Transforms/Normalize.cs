using System.Numerics.Tensors;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// torchvision <c>Normalize(mean, std)</c> extended with the input conventions of other frameworks: the channels
/// may be reordered to BGR and scaled to 0–255 first (Caffe), then <c>(x − mean[c]) / std[c]</c> with mean and
/// std given in the output channel order and value range.
/// </summary>
public sealed class Normalize : TensorTransform
{
    public Normalize(float[] mean, float[] std, ChannelOrder order = ChannelOrder.Rgb, ValueRange range = ValueRange.Unit)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize needs as many means as stds and at least one (got {mean.Length} and {std.Length}).");
        if (std.Any(s => !(s > 0))) throw new ArgumentException($"Normalize std values must be positive (got {string.Join(", ", std)}).");
        Mean = (float[])mean.Clone();
        Std = (float[])std.Clone();
        Order = order;
        Range = range;
    }

    public float[] Mean { get; }
    public float[] Std { get; }
    public ChannelOrder Order { get; }
    public ValueRange Range { get; }

    public override bool IsNormalization => true;

    public override void Apply(SampleBuffer img, ref CounterRng rng)
    {
        int c = img.Channels;
        if (Mean.Length != 1 && Mean.Length != c)
            throw new InvalidOperationException($"Normalize has {Mean.Length} means for a {c}-channel image.");
        if (Order == ChannelOrder.Bgr && c == 3)
        {
            var tmp = img.Scratch;
            img.Plane(0).CopyTo(tmp);
            img.Plane(2).CopyTo(img.Plane(0));
            tmp.CopyTo(img.Plane(2));
        }
        float rangeScale = Range == ValueRange.Byte ? 255f : 1f;
        for (int ch = 0; ch < c; ch++)
        {
            int k = Mean.Length == 1 ? 0 : ch;
            // (s·x − m) / d  =  x·(s/d) + (−m/d)
            var plane = img.Plane(ch);
            TensorPrimitives.Multiply(plane, rangeScale / Std[k], plane);
            TensorPrimitives.Add(plane, -Mean[k] / Std[k], plane);
        }
    }

    public override string ToString()
    {
        string Tuple(float[] v) => v.Length == 1 ? F(v[0]) : $"({string.Join(",", v.Select(x => F(x)))})";
        var s = $"Normalize(mean={Tuple(Mean)},std={Tuple(Std)}";
        if (Order != ChannelOrder.Rgb) s += ",order=bgr";
        if (Range != ValueRange.Unit) s += ",range=255";
        return s + ")";
    }
}
