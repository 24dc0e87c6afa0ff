using TransferKit.Augment.Presets;
using TransferKit.FineTune.Catalog;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Inference;

/// <summary>
/// An ONNX image classifier ready to run: an engine, the input convention and the class names.
/// Preprocessing: an explicit preset (--preprocess) wins; else the model's <c>preprocessing</c> metadata (tuned.onnx
/// records it); else the model catalogue entry; else a guess from the input shape (see <see cref="InputConvention.For"/>).
/// Class names: the model's <c>labels</c> metadata, else the catalogue entry's labels, else none (callers fall back).
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    ImageClassifier(InferenceEngine engine, InputConvention convention, string source, IReadOnlyList<string>? labels)
    {
        Engine = engine; Convention = convention; PreprocessingSource = source; Labels = labels;
    }

    public InferenceEngine Engine { get; }
    public InputConvention Convention { get; }

    /// <summary>Where the preprocessing came from: "--preprocess", "model metadata", "catalogue" or "input shape".</summary>
    public string PreprocessingSource { get; }

    /// <summary>Class names in output order, when the model or the catalogue has them.</summary>
    public IReadOnlyList<string>? Labels { get; }

    public static ImageClassifier Open(string file, string engine = "native", string? preprocess = null, int threads = 0)
    {
        var e = InferenceEngine.Open(engine, file, threads);
        try
        {
            var entry = ModelCatalog.Default.Identify(file);
            string layout = entry?.Input.Layout ?? "NCHW";
            InputConvention convention;
            string source;
            if (preprocess != null) (convention, source) = (new InputConvention(Preprocessing.Get(preprocess), layout), "--preprocess");
            else if (ModelMetadata.Preprocessing(e.Metadata, file) is { } recorded) (convention, source) = (new InputConvention(recorded, layout), "model metadata");
            else
            {
                // The catalogue or the input shape decides; both need the imported model (ONNX Runtime alone does not say).
                var imported = e is NativeEngine n ? n.Model : OnnxImporter.Import(file);
                (convention, source) = (InputConvention.For(imported, null), entry != null ? "catalogue" : "input shape");
            }
            var labels = ModelMetadata.Labels(e.Metadata, file) ?? entry?.Labels;
            return new ImageClassifier(e, convention, source, labels);
        }
        catch
        {
            e.Dispose();
            throw;
        }
    }

    /// <summary>The name of output class <paramref name="k"/>: its label, or its index when the model has none.</summary>
    public string LabelOf(int k) => Labels != null && k < Labels.Count ? Labels[k] : k.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs a preprocessed NCHW batch (as the loader and <see cref="InputConvention.Load"/> without NHWC give it) and
    /// returns the raw output rows [n, classes]; NHWC models get the batch transposed first.
    /// </summary>
    public (float[] Rows, int Classes) Scores(Tensor nchw)
    {
        var x = Convention.Layout == "NHWC" ? ToNhwc(nchw) : nchw;
        var y = Engine.Run(x);
        int n = nchw.Dim(0);
        if (y.Length % n != 0) throw new ShapeException($"{Engine.File}: output {Shapes.Format(y.Shape)} does not split into {n} rows.");
        int classes = y.Length / n;
        if (Labels != null && Labels.Count != classes)
            throw new InvalidDataException($"{Engine.File}: the model outputs {classes} classes but its labels name {Labels.Count}.");
        return (y.Span.ToArray(), classes);
    }

    /// <summary>Decodes and preprocesses <paramref name="images"/> into one batch and returns its class probabilities
    /// (see <see cref="ClassProbabilities"/> for when a softmax is applied). With <paramref name="tta"/>, the
    /// probabilities are the mean over the test-time views of the preprocessing
    /// (<see cref="Augment.Presets.Preprocessing.TestTimePipelines"/>).</summary>
    public (float[] Probabilities, int Classes, bool SoftmaxApplied) Classify(IReadOnlyList<string> images, bool tta = false)
    {
        var nchw = new InputConvention(Convention.Preprocessing, "NCHW");
        var views = tta ? Convention.Preprocessing.TestTimePipelines() : [Convention.Preprocessing.EvaluationPipeline()];
        // The views read the same files: decode each once.
        var decoded = views.Count > 1 ? new Augment.Loading.DecodedImageCache((long)Augment.Loading.DataLoaderOptions.DefaultDecodeCacheMegabytes << 20) : null;
        float[]? mean = null;
        int classes = 0;
        bool applied = false;
        foreach (var view in views)
        {
            var (rows, k) = Scores(nchw.Load(images, images.Count, view, decoded));
            var p = ClassProbabilities.From(rows, k, out bool a);
            applied |= a;
            if (mean == null) { mean = p; classes = k; continue; }
            System.Numerics.Tensors.TensorPrimitives.Add(mean, p, mean);
        }
        if (views.Count > 1) System.Numerics.Tensors.TensorPrimitives.Multiply(mean!, 1f / views.Count, mean!);
        return (mean!, classes, applied);
    }

    static Tensor ToNhwc(Tensor x)
    {
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var t = new Tensor(n, h, w, c);
        var src = x.Span; var dst = t.Span;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++) dst[(b * h * w + p) * c + ch] = src[(b * c + ch) * h * w + p];
        return t;
    }

    public void Dispose() => Engine.Dispose();
}
