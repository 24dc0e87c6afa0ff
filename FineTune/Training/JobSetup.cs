using TransferKit.Augment.Datasets;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;

namespace TransferKit.FineTune.Training;

/// <summary>
/// The setup steps of a fine-tune run, shared by the job and the verbs that must train exactly as it does (lr-find):
/// opening the data, preparing the model and its head, the phases of a recipe, a phase's freeze plan and its
/// parameter groups.
/// </summary>
public static class JobSetup
{
    /// <summary>Training and validation sets, cut to the --limit-train/--limit-val class-balanced subsets when asked.</summary>
    public static (ImageDataset Train, ImageDataset Val) OpenData(FineTuneOptions o)
    {
        var (train, val) = OpenFullData(o);
        if (o.LimitTrain > 0) train = SubsetDataset.Balanced(train, o.LimitTrain, (ulong)o.Seed);
        if (o.LimitVal > 0) val = SubsetDataset.Balanced(val, o.LimitVal, (ulong)o.Seed + 1);
        return (train, val);
    }

    static (ImageDataset Train, ImageDataset Val) OpenFullData(FineTuneOptions o)
    {
        if (!Directory.Exists(o.Data)) throw new DirectoryNotFoundException($"Data folder '{o.Data}' does not exist.");
        // MNIST-style IDX files: train-* for training, t10k-* (the test set) for validation.
        if (Idx(o.Data, "train-images-idx3-ubyte") is { } trainImages)
        {
            var trainLabels = Idx(o.Data, "train-labels-idx1-ubyte") ?? throw new FileNotFoundException($"{o.Data}: train-images-idx3-ubyte has no train-labels-idx1-ubyte beside it.");
            var train = IdxDataset.Load(trainImages, trainLabels);
            if (o.Val != null) return (train, ImageFolderDataset.FromFolder(o.Val));
            if (Idx(o.Data, "t10k-images-idx3-ubyte") is { } testImages && Idx(o.Data, "t10k-labels-idx1-ubyte") is { } testLabels)
                return (train, IdxDataset.Load(testImages, testLabels, train.Classes));
            throw new FileNotFoundException($"{o.Data}: no t10k-images-idx3-ubyte/t10k-labels-idx1-ubyte to validate on; give --val.");
        }
        if (o.Val != null) return (ImageFolderDataset.FromFolder(o.Data), ImageFolderDataset.FromFolder(o.Val));
        var split = ImageFolderDataset.Open(o.Data, o.ValSplit, (ulong)o.Seed);
        return (split.Train, split.Validation);
    }

    static string? Idx(string folder, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    /// <summary>The number of classes the new head gets (--classes auto or a number), after checking the training set can train a classifier.</summary>
    public static int ClassCount(ImageDataset train, FineTuneOptions o)
    {
        var classes = train.Classes;
        if (classes.Count < 2) throw new ArgumentException($"{o.Data}: the dataset has {classes.Count} class; fine-tuning a classifier needs at least two.");
        var empty = classes.Names.Where((_, i) => train.CountPerClass()[i] == 0).ToList();
        if (empty.Count > 0) throw new ArgumentException($"{o.Data}: class folder(s) {string.Join(", ", empty)} hold no training images.");
        int classCount = o.Classes == "auto" ? classes.Count : int.Parse(o.Classes, System.Globalization.CultureInfo.InvariantCulture);
        if (classCount < classes.Count) throw new ArgumentException($"--classes {classCount} is fewer than the {classes.Count} classes in {o.Data}.");
        return classCount;
    }

    /// <summary>
    /// The augmentation a run uses: <c>--augment</c> as given, or for <c>auto</c> <c>light</c> when the body stays
    /// frozen (the head recipe: a linear head on fixed features for a few epochs, where RandomResizedCrop down to 8 %
    /// and colour jitter cost accuracy) and <c>default</c> (the standard training transforms) when it trains.
    /// </summary>
    public static string AugmentLevelFor(FineTuneOptions o) =>
        o.Augment.Trim().Equals(AutoAugment, StringComparison.OrdinalIgnoreCase) ? (o.Recipe == "head" ? "light" : "default") : o.Augment;

    /// <summary>The <c>--augment</c> value that picks the level by recipe.</summary>
    public const string AutoAugment = "auto";

    /// <summary>Imports the model, replaces its head for <paramref name="classCount"/> classes and builds the pipelines.</summary>
    public static PreparedModel PrepareModel(FineTuneOptions o, int classCount, TextWriter log)
    {
        var model = OnnxImporter.Import(o.Model);
        var convention = InputConvention.For(model, o.Preprocess);
        if (convention.Layout != "NCHW") throw new NotSupportedException($"{o.Model}: fine-tuning models with {convention.Layout} input is not supported yet.");
        var head = Head.Find(model.Graph, o.Head);
        head.Replace(classCount, o.HeadInit, o.Seed);
        if (o.HeadDropout is { } p) head.SetDropout(p, o.Model);
        Head.SetAsideSoftmax(model.Graph, head);
        var dropout = head.DropoutsBefore().Select(d => ((Toolkit.Ops.DropoutOp)d.Op).Ratio).FirstOrDefault(-1);
        log.WriteLine($"model {Path.GetFileName(o.Model)}: head {head.Node.Name} ({head.Node.Op.Type}) → {classCount} classes{(dropout >= 0 ? $", dropout {TransferKit.FineTune.Reporting.Numbers.Fixed(dropout)} before it" : "")}; preprocessing {convention.Preprocessing.Name}");
        var pre = convention.Preprocessing;
        var augment = AugmentLevelFor(o);
        var trainPipeline = augment.Contains('(') ? TransformPipeline.Parse(augment) : AugmentLevels.Get(augment, pre.CropSize, pre);
        return new PreparedModel(model, convention, head, trainPipeline, pre.EvaluationPipeline());
    }

    /// <summary>
    /// Seeds every dropout mask from the run's seed, the phase and the node, so runs with different seeds drop
    /// different units and a phase does not repeat the masks of the one before (its step counter starts again).
    /// </summary>
    public static void SeedDropout(ComputeGraph graph, int seed, int phase)
    {
        foreach (var n in graph.Nodes)
            if (n.Op is Toolkit.Ops.DropoutOp d)
                d.Seed = Mix((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)phase * 0xD1B54A32D192ED03UL + (ulong)n.Index);
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The phases of a recipe: head, full, or head then full (two-phase).</summary>
    public static string[] Phases(string recipe) => recipe switch
    {
        "head" => ["head"],
        "full" => ["full"],
        "two-phase" => ["head", "full"],
        _ => throw new ArgumentException($"Unknown recipe '{recipe}' (head, full, two-phase)."),
    };

    /// <summary>A phase's freeze plan: all but the head frozen (head) or everything trainable (full), then --freeze and --unfreeze, then the batch-norm policy.</summary>
    public static FreezePlan FreezePlanFor(ComputeGraph graph, Head head, string phase, FineTuneOptions o) =>
        FreezePlan.ForPhase(graph, phase, head.Nodes, o.Bn, o.Freeze, o.Unfreeze);

    /// <summary>The head at the full learning rate; the body (when it trains) at a tenth (discriminative rates); both with the weight decay asked for.</summary>
    public static List<ParameterGroup> Groups(ComputeGraph g, Head head, float lr, bool discriminative, float weightDecay)
    {
        var headParams = head.Nodes.SelectMany(n => n.Inputs).Where(v => v.Parameter != null).Select(v => v.Parameter!).ToHashSet();
        var body = g.Parameters.Where(p => p.Trainable && !headParams.Contains(p)).ToList();
        var groups = new List<ParameterGroup> { new(headParams.Where(p => p.Trainable), discriminative ? lr * 10 : lr, weightDecay) { Name = "head" } };
        if (body.Count > 0) groups.Add(new ParameterGroup(body, lr, weightDecay) { Name = "body" });
        foreach (var grp in groups) grp.BaseLearningRate = grp.LearningRate;
        return groups;
    }
}
