using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Presets;

/// <summary>
/// The input convention of a pretrained network, as data: channel order, value range, per-channel mean and std
/// (in the output channel order and value range), the evaluation resize and crop, and the channel count.
/// </summary>
/// <param name="Name">Preset name, e.g. <c>caffe-imagenet</c>.</param>
/// <param name="Order">RGB or BGR.</param>
/// <param name="Range">0–1 or 0–255 before mean/std.</param>
/// <param name="Mean">Per-channel mean, subtracted.</param>
/// <param name="Std">Per-channel std, divided by.</param>
/// <param name="ResizeShorterSide">Evaluation: resize the shorter side to this, or 0 to resize exactly to the crop size.</param>
/// <param name="CropSize">Network input height and width.</param>
/// <param name="Channels">1 (grayscale) or 3.</param>
public sealed record Preprocessing(string Name, ChannelOrder Order, ValueRange Range, float[] Mean, float[] Std,
    int ResizeShorterSide, int CropSize, int Channels = 3)
{
    /// <summary>The shared ImageNet SqueezeNet 1.1 (Caffe): BGR, 0–255, mean B=104 G=117 R=123, std 1, 256 → 224.</summary>
    public static Preprocessing CaffeImageNet { get; } =
        new("caffe-imagenet", ChannelOrder.Bgr, ValueRange.Byte, [104f, 117f, 123f], [1f, 1f, 1f], 256, 224);

    /// <summary>torchvision ImageNet models: RGB, 0–1, mean 0.485/0.456/0.406, std 0.229/0.224/0.225, 256 → 224.</summary>
    public static Preprocessing TorchvisionImageNet { get; } =
        new("torchvision-imagenet", ChannelOrder.Rgb, ValueRange.Unit, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], 256, 224);

    /// <summary>MNIST-style: 1 channel, 28×28 (resized exactly), 0–1, no mean/std shift.</summary>
    public static Preprocessing Mnist { get; } =
        new("mnist", ChannelOrder.Rgb, ValueRange.Unit, [0f], [1f], 0, 28, 1);

    /// <summary>MNIST with the usual dataset statistics (mean 0.1307, std 0.3081).</summary>
    public static Preprocessing MnistStandardized { get; } =
        new("mnist-standardized", ChannelOrder.Rgb, ValueRange.Unit, [0.1307f], [0.3081f], 0, 28, 1);

    /// <summary>All named presets.</summary>
    public static IReadOnlyList<Preprocessing> All { get; } = [CaffeImageNet, TorchvisionImageNet, Mnist, MnistStandardized];

    /// <summary>
    /// A preset by name (case-insensitive); <c>imagenet</c> is <c>torchvision-imagenet</c> and <c>caffe</c> is
    /// <c>caffe-imagenet</c>.
    /// </summary>
    public static Preprocessing Get(string name)
    {
        var key = name.Trim().ToLowerInvariant() switch
        {
            "imagenet" or "torchvision" => "torchvision-imagenet",
            "caffe" => "caffe-imagenet",
            var k => k,
        };
        return All.FirstOrDefault(p => p.Name == key)
            ?? throw new ArgumentException($"Unknown preprocessing preset '{name}'; known: imagenet, {string.Join(", ", All.Select(p => p.Name))}.");
    }

    /// <summary>The normalisation step of this convention.</summary>
    public Normalize ToNormalize() => new(Mean, Std, Order, Range);

    /// <summary>Geometry for evaluation: resize then centre crop (or an exact resize when <see cref="ResizeShorterSide"/> is 0).</summary>
    public IEnumerable<Transform> EvaluationGeometry()
    {
        if (ResizeShorterSide > 0)
        {
            yield return new Resize(ResizeShorterSide);
            yield return new CenterCrop(CropSize);
        }
        else yield return new Resize(CropSize, CropSize);
    }

    /// <summary>The tail every pipeline of this convention ends with: channel reduction if needed, then normalisation.</summary>
    public IEnumerable<Transform> OutputConversion()
    {
        if (Channels == 1) yield return new Grayscale(1);
        yield return ToNormalize();
    }

    /// <summary>
    /// The views test-time augmentation averages over, the evaluation view first: torchvision's <c>TenCrop</c> of the
    /// resized image (the centre and the four corners, each also mirrored left–right) when the convention resizes then
    /// crops; the evaluation view and its mirror when it resizes to the input size exactly.
    /// </summary>
    public IReadOnlyList<TransformPipeline> TestTimePipelines()
    {
        var views = new List<TransformPipeline>();
        CropAnchor[] anchors = ResizeShorterSide > 0 ? [CropAnchor.Center, CropAnchor.TopLeft, CropAnchor.TopRight, CropAnchor.BottomLeft, CropAnchor.BottomRight] : [CropAnchor.Center];
        foreach (var anchor in anchors)
            foreach (var mirrored in new[] { false, true })
            {
                IEnumerable<Transform> geometry = ResizeShorterSide > 0
                    ? [new Resize(ResizeShorterSide), anchor == CropAnchor.Center ? new CenterCrop(CropSize) : new AnchoredCrop(CropSize, anchor)]
                    : EvaluationGeometry();
                if (mirrored) geometry = geometry.Append(new RandomHorizontalFlip(1));
                views.Add(new TransformPipeline(geometry.Concat(OutputConversion())));
            }
        return views;
    }

    /// <summary>The deterministic evaluation pipeline.</summary>
    public TransformPipeline EvaluationPipeline() => new(EvaluationGeometry().Concat(OutputConversion()));
}
