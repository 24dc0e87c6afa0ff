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

    public static EvaluationResult Run(ImageClassifier classifier, string dir, int batch = 16, int threads = 0)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch size must be at least 1.");
        var sw = Stopwatch.StartNew();
        var folder = ResolveFolder(dir);
        var dataset = ImageFolderDataset.FromFolder(folder);
        var toModel = MapClasses(classifier, dataset.Classes, folder);
        using var loader = new DataLoader(dataset, classifier.Convention.Preprocessing.EvaluationPipeline(), new DataLoaderOptions
        {
            BatchSize = batch, Shuffle = false, Threads = threads > 0 ? threads : Environment.ProcessorCount,
        });
        ConfusionMatrix? matrix = null;
        foreach (var b in loader.Epoch(0))
        {
            var shape = b.Images.ShapeArray; shape[0] = b.Count;
            int per = b.Images.Length / b.Images.Dim(0);
            var (rows, classes) = classifier.Scores(new Tensor(shape, b.Images.Span[..(b.Count * per)].ToArray()));
            if (matrix == null)
            {
                int needed = toModel.Max() + 1;
                if (classes < needed)
                    throw new InvalidDataException($"{classifier.Engine.File} outputs {classes} classes, but {folder} has {dataset.Classes.Count} class folders.");
                matrix = new ConfusionMatrix(classes);
            }
            for (int i = 0; i < b.Count; i++)
            {
                var row = rows.AsSpan(i * classes, classes);
                int arg = 0;
                for (int k = 1; k < classes; k++) if (row[k] > row[arg]) arg = k;
                matrix.Add(toModel[b.Labels[i]], arg);
            }
        }
        if (matrix == null) throw new InvalidOperationException($"None of the {dataset.Count} images in {folder} could be read.");
        var names = Enumerable.Range(0, matrix.Classes)
            .Select(k => classifier.Labels != null ? classifier.Labels[k] : k < dataset.Classes.Count ? dataset.Classes[k] : $"class {k}").ToList();
        var pre = classifier.Convention.Preprocessing;
        return new EvaluationResult(classifier.Engine.File, folder, classifier.Engine.Name, pre.Name, classifier.PreprocessingSource,
            names, matrix, ClassMetrics.Compute(matrix, names), loader.Summary.Skipped, sw.Elapsed.TotalSeconds);
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
