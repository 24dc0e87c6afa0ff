using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Presets;

/// <summary>
/// Named training augmentation strengths, each ending in the preprocessing's normalisation:
/// <list type="bullet">
/// <item><c>none</c>: the evaluation resize + centre crop.</item>
/// <item><c>light</c>: RandomResizedCrop(size, scale=(0.5,1)), RandomHorizontalFlip(0.5).</item>
/// <item><c>default</c>: RandomResizedCrop(size), RandomHorizontalFlip(0.5), ColorJitter(0.4,0.4,0.4,0.1) — the standard training transforms.</item>
/// <item><c>strong</c>: default plus RandomAffine(15, translate=(0.1,0.1), scale=(0.9,1.1), shear=10), RandomGrayscale(0.2) and RandomErasing(0.25).</item>
/// </list>
/// For one-channel presets (MNIST) colour jitter is left out and flips become small affine jitters.
/// </summary>
public static class AugmentLevels
{
    public static readonly IReadOnlyList<string> Names = ["none", "light", "default", "strong"];

    public static bool IsLevel(string name) => Names.Contains(name.Trim().ToLowerInvariant());

    /// <summary>The pipeline for a level at output size <paramref name="size"/> with a preprocessing convention.</summary>
    public static TransformPipeline Get(string level, int size, Preprocessing preprocessing)
    {
        var key = level.Trim().ToLowerInvariant();
        var list = new List<Transform>();
        bool gray = preprocessing.Channels == 1;
        switch (key)
        {
            case "none":
                if (preprocessing.ResizeShorterSide > 0)
                {
                    list.Add(new Resize((int)Math.Round(size * (double)preprocessing.ResizeShorterSide / preprocessing.CropSize)));
                    list.Add(new CenterCrop(size));
                }
                else list.Add(new Resize(size, size));
                break;
            case "light":
                if (gray) { list.Add(new Resize(size, size)); list.Add(new RandomAffine(5, (0.05, 0.05))); }
                else { list.Add(new RandomResizedCrop(size, (0.5, 1.0))); list.Add(new RandomHorizontalFlip(0.5)); }
                break;
            case "default":
                if (gray) { list.Add(new Resize(size, size)); list.Add(new RandomAffine(10, (0.1, 0.1), (0.9, 1.1))); }
                else
                {
                    list.Add(new RandomResizedCrop(size));
                    list.Add(new RandomHorizontalFlip(0.5));
                    list.Add(new ColorJitter(0.4, 0.4, 0.4, 0.1));
                }
                break;
            case "strong":
                if (gray) { list.Add(new Resize(size, size)); list.Add(new RandomAffine(15, (0.15, 0.15), (0.8, 1.2), [10])); }
                else
                {
                    list.Add(new RandomResizedCrop(size));
                    list.Add(new RandomHorizontalFlip(0.5));
                    list.Add(new RandomAffine(15, (0.1, 0.1), (0.9, 1.1), [10]));
                    list.Add(new ColorJitter(0.4, 0.4, 0.4, 0.1));
                    list.Add(new RandomGrayscale(0.2));
                }
                break;
            default:
                throw new ArgumentException($"Unknown augment level '{level}'; expected one of {string.Join(", ", Names)}.");
        }
        list.AddRange(preprocessing.OutputConversion());
        if (key == "strong") list.Add(new RandomErasing(0.25));
        return new TransformPipeline(list);
    }
}
