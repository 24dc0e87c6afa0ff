using System.Diagnostics;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.FineTune.Inference;
using TransferKit.FineTune.Reporting;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Evaluation;

/// <summary>
/// Runs a classifier over a folder of class subfolders and counts a confusion matrix. When the folder holds
/// <c>val/</c> (or <c>validation/</c>), that is what is evaluated: the held-out split of a fine-tune data folder,
/// never its training images. Folder names map to the model's classes through its labels (every folder must be one
/// of them); a model without labels takes the sorted folder names as its classes 0, 1, ….
/// </summary>
public static class Evaluator
{
    /// <summary>The folder evaluated for <paramref name="dir"/>: its val/ or validation/ subfolder when present, else itself.</summary>
    public static string ResolveFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Data folder '{dir}' does not exist.");
        foreach (var name in new[] { "val", "validation" })
        {
            var sub = Path.Combine(dir, name);
            if (Directory.Exists(sub)) return sub;
        }
        return dir;
    }

    /// <summary>
    /// Evaluates <paramref name="classifier"/> on the folder (see <see cref="ResolveFolder"/>). With
    /// <paramref name="tta"/>, each image's class probabilities are averaged over the test-time views of its
    /// preprocessing (<see cref="Augment.Presets.Preprocessing.TestTimePipelines"/>: ten crops, or the view and its
    /// mirror) before the prediction is taken, as fastai's <c>tta</c> does.
    /// </summary>
    public static EvaluationResult Run(ImageClassifier classifier, string dir, int batch = 16, int threads = 0, bool tta = false)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch size must be at least 1.");
        var sw = Stopwatch.StartNew();
        var folder = ResolveFolder(dir);
        var dataset = ImageFolderDataset.FromFolder(folder);
        var toModel = MapClasses(classifier, dataset.Classes, folder);
        var pre = classifier.Convention.Preprocessing;
        var views = tta ? pre.TestTimePipelines() : [pre.EvaluationPipeline()];
        float[]? sums = null;
        int classes = 0;
        var labels = new int[dataset.Count];
        var seen = new bool[dataset.Count];
        IReadOnlyList<Augment.Loading.SkippedFile> skipped = [];
        // Every view reads the same files: one decoded-image cache for all of them.
        var decoded = new Augment.Loading.DecodedImageCache((long)DataLoaderOptions.DefaultDecodeCacheMegabytes << 20);
        foreach (var view in views)
        {
            using var loader = new DataLoader(dataset, view, new DataLoaderOptions
            {
                BatchSize = batch, Shuffle = false, Threads = threads > 0 ? threads : Environment.ProcessorCount, DecodeCache = decoded,
            });
            foreach (var b in loader.Epoch(0))
            {
                var shape = b.Images.ShapeArray; shape[0] = b.Count;
                int per = b.Images.Length / b.Images.Dim(0);
                var (rows, k) = classifier.Scores(new Tensor(shape, b.Images.Span[..(b.Count * per)].ToArray()));
                if (sums == null)
                {
                    int needed = toModel.Max() + 1;
                    if (k < needed)
                        throw new InvalidDataException($"{classifier.Engine.File} outputs {k} classes, but {folder} has {dataset.Classes.Count} class folders.");
                    classes = k;
                    sums = new float[dataset.Count * classes];
                }
                // One view: its raw scores decide (argmax); several: their probabilities are averaged.
                var scores = views.Count == 1 ? rows : ClassProbabilities.From(rows, classes, out _);
                for (int i = 0; i < b.Count; i++)
                {
                    int s = b.SampleIndices[i];
                    seen[s] = true; labels[s] = b.Labels[i];
                    var dst = sums.AsSpan(s * classes, classes);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, scores.AsSpan(i * classes, classes), dst);
                }
            }
            skipped = Augment.Loading.SkippedFile.Union(dataset.ListingSkipped, loader.Summary.Skipped);
        }
        if (sums == null) throw new InvalidOperationException($"None of the {dataset.Count} images in {folder} could be read.");
        var matrix = new ConfusionMatrix(classes);
        for (int s = 0; s < dataset.Count; s++)
        {
            if (!seen[s]) continue;
            var row = sums.AsSpan(s * classes, classes);
            int arg = 0;
            for (int k = 1; k < classes; k++) if (row[k] > row[arg]) arg = k;
            matrix.Add(toModel[labels[s]], arg);
        }
        var names = Enumerable.Range(0, matrix.Classes)
            .Select(k => classifier.Labels != null ? classifier.Labels[k] : k < dataset.Classes.Count ? dataset.Classes[k] : $"class {k}").ToList();
        return new EvaluationResult(classifier.Engine.File, folder, classifier.Engine.Name, pre.Name, classifier.PreprocessingSource,
            names, matrix, ClassMetrics.Compute(matrix, names), skipped, sw.Elapsed.TotalSeconds) { TtaViews = views.Count };
    }

    /// <summary>Dataset class index → model output index.</summary>
    static int[] MapClasses(ImageClassifier classifier, ClassMap folders, string folder)
    {
        if (classifier.Labels is not { } labels) return Enumerable.Range(0, folders.Count).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = labels.Count - 1; k >= 0; k--) index[labels[k]] = k;   // the first occurrence wins
        return folders.Names.Select(name => index.TryGetValue(name, out int k) ? k
            : throw new InvalidDataException($"Class folder '{Path.Combine(folder, name)}' is not one of the model's classes ({Shorten(labels)}).")).ToArray();
    }

    static string Shorten(IReadOnlyList<string> labels) =>
        labels.Count <= 12 ? string.Join(", ", labels) : string.Join(", ", labels.Take(10)) + $", … {labels.Count} in all";
}
