using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit;

/// <summary>
/// The training augmentation of a fine-tune, as finetune's <c>--augment</c>: a level or a transform spec. Sizes and
/// normalisation come from the model's preprocessing (its catalogue entry or input shape), so a level needs no size;
/// validation images always get the preprocessing's evaluation transforms (resize, centre crop, normalise).
/// </summary>
public sealed class Transforms
{
    Transforms(string spec) => Spec = spec;

    /// <summary>The <c>--augment</c> value this stands for.</summary>
    public string Spec { get; }

    /// <summary><c>light</c> while the body is frozen (the head recipe), <c>default</c> when it trains.</summary>
    public static Transforms Auto { get; } = new("auto");

    /// <summary>No augmentation: the evaluation transforms for training too.</summary>
    public static Transforms None { get; } = new("none");

    /// <summary>RandomResizedCrop (scale 0.5–1) and a horizontal flip: for a head on frozen features.</summary>
    public static Transforms Light { get; } = new("light");

    /// <summary>torchvision's training transforms: RandomResizedCrop (0.08–1), flip, ColorJitter.</summary>
    public static Transforms Default { get; } = new("default");

    /// <summary>The default transforms plus RandomAffine, RandomGrayscale and RandomErasing.</summary>
    public static Transforms Strong { get; } = new("strong");

    /// <summary>A transform spec such as <c>"RandomResizedCrop(224) | RandomHorizontalFlip"</c>; one that does not parse is a <see cref="FormatException"/> (a TransformSpecException) naming the place.</summary>
    public static Transforms Parse(string spec)
    {
        if (AugmentLevels.IsLevel(spec)) return new(spec.Trim().ToLowerInvariant());
        TransformPipeline.Parse(spec);
        return new(spec);
    }

    /// <inheritdoc/>
    public override string ToString() => Spec;
}
