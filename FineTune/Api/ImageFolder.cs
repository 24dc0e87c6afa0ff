using TransferKit.FineTune.Training;

namespace TransferKit;

/// <summary>
/// A folder of labelled images to fine-tune on, as finetune's <c>--data</c>: <c>train/</c> and <c>val/</c> (or
/// <c>validation/</c>) each with one subfolder per class, or one folder of class subfolders split by a seeded,
/// stratified fraction; or MNIST-style IDX files. <see cref="Load"/> opens it once to read the classes and counts (an
/// empty or one-class folder is refused there), with the transforms training will use.
/// </summary>
public sealed class ImageFolder
{
    ImageFolder(string path, Transforms transforms, double valSplit, int seed, IReadOnlyList<string> classes, int train, int validation)
    {
        Path = path; Transforms = transforms; ValSplit = valSplit; Seed = seed; Classes = classes; TrainCount = train; ValidationCount = validation;
    }

    /// <summary>The data folder.</summary>
    public string Path { get; }

    /// <summary>The training augmentation.</summary>
    public Transforms Transforms { get; }

    /// <summary>The validation fraction when the folder has no val/ split.</summary>
    public double ValSplit { get; }

    /// <summary>The seed of that split.</summary>
    public int Seed { get; }

    /// <summary>The class names (folder names, sorted), in the new head's output order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Training images found.</summary>
    public int TrainCount { get; }

    /// <summary>Validation images found.</summary>
    public int ValidationCount { get; }

    /// <summary>The folder's own val/ (or validation/) split, when it has one.</summary>
    public string? ValidationFolder =>
        new[] { "val", "validation" }.Select(n => System.IO.Path.Combine(Path, n)).FirstOrDefault(Directory.Exists);

    /// <summary>Opens <paramref name="path"/> (see the class summary).</summary>
    /// <param name="path">The data folder.</param>
    /// <param name="transforms">Training augmentation (default <see cref="Transforms.Auto"/>).</param>
    /// <param name="valSplit">Validation fraction when there is no val/ folder, 0 to below 1.</param>
    /// <param name="seed">Seed of that split (and of the training run, unless the learner sets another).</param>
    public static ImageFolder Load(string path, Transforms? transforms = null, double valSplit = 0.2, int seed = 0)
    {
        var full = System.IO.Path.GetFullPath(path);
        var options = new FineTuneOptions { Model = "", Data = full, Out = "", ValSplit = valSplit, Seed = seed };
        OptionLimits.Check(options);
        var (train, val) = JobSetup.OpenData(options);
        JobSetup.ClassCount(train, options);
        return new ImageFolder(full, transforms ?? Transforms.Auto, valSplit, seed, train.Classes.Names.ToArray(), train.Count, val.Count);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Path}: {TrainCount} training and {ValidationCount} validation images in {Classes.Count} classes";
}
