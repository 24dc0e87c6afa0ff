using TransferKit.Augment.Imaging;
using TransferKit.Augment.Random;

namespace TransferKit.Augment.Transforms;

/// <summary>
/// A step of a <see cref="TransformPipeline"/>. Randomness comes only from the <see cref="CounterRng"/>
/// handed in, which is keyed on (seed, epoch, sample, transform position).
/// </summary>
public abstract class Transform
{
    /// <summary>The transform in spec syntax, e.g. <c>RandomHorizontalFlip(p=0.5)</c>.</summary>
    public abstract override string ToString();

    internal static string F(double v) => v.ToString("0.#####", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A geometric transform: it does not touch pixels but contributes an output→input affine map and an
/// output size to the sample's <see cref="Geometry"/>; all of them are resampled in one pass.
/// </summary>
public abstract class GeometricTransform : Transform
{
    /// <summary>Draws the random parameters and pushes this transform's map onto <paramref name="geometry"/>.</summary>
    public abstract void Plan(ref Geometry geometry, ref CounterRng rng);

    /// <summary>The output size whatever the input size, or null when it depends on the input.</summary>
    public virtual (int Width, int Height)? FixedOutputSize => null;

    /// <summary>True when the output has the input's size (flips, rotations, affine).</summary>
    public virtual bool PreservesSize => false;
}

/// <summary>A transform over the float image after resampling (colour, erasing, normalisation).</summary>
public abstract class TensorTransform : Transform
{
    /// <summary>Transforms <paramref name="image"/> in place.</summary>
    public abstract void Apply(SampleBuffer image, ref CounterRng rng);

    /// <summary>Channels out for a given number in.</summary>
    public virtual int OutputChannels(int inputChannels) => inputChannels;

    /// <summary>True for value normalisation (skipped when drawing previews).</summary>
    public virtual bool IsNormalization => false;
}
