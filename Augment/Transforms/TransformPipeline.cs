namespace TransferKit.Augment.Transforms;

/// <summary>
/// An ordered list of transforms (torchvision's <c>Compose</c>). Geometric transforms are planned in order and
/// resampled together in one pass from the decoded image; tensor transforms then run in order on the result.
/// Transform i of sample n in epoch e draws from the random stream (seed, e, n, i).
/// </summary>
public sealed class TransformPipeline
{
    readonly Transform[] _transforms;

    public TransformPipeline(IEnumerable<Transform> transforms)
    {
        _transforms = transforms.ToArray();
        (int, int)? size = null;
        int channels = 3;
        bool seenTensor = false;
        foreach (var t in _transforms)
        {
            switch (t)
            {
                case GeometricTransform g:
                    if (seenTensor)
                        throw new ArgumentException($"Geometric transform {g} follows a tensor transform; put every geometric transform before ColorJitter, Normalize, RandomErasing and the like.");
                    if (g.FixedOutputSize is { } fixedSize) size = fixedSize;
                    else if (!g.PreservesSize) size = null;
                    break;
                case TensorTransform tt:
                    seenTensor = true;
                    channels = tt.OutputChannels(channels);
                    break;
                default:
                    throw new ArgumentException($"Unknown transform kind {t.GetType().Name}.");
            }
        }
        OutputSize = size;
        OutputChannels = channels;
    }

    public TransformPipeline(params Transform[] transforms) : this((IEnumerable<Transform>)transforms) { }

    /// <summary>The transforms in order.</summary>
    public IReadOnlyList<Transform> Transforms => _transforms;

    /// <summary>Output width and height when the pipeline fixes them (ends with a crop or exact resize), else null.</summary>
    public (int Width, int Height)? OutputSize { get; }

    /// <summary>Channels of the output (3 unless a Grayscale(1) is present).</summary>
    public int OutputChannels { get; }

    /// <summary>The same pipeline without normalisation, for drawing previews in [0, 1].</summary>
    public TransformPipeline WithoutNormalization() =>
        new(_transforms.Where(t => t is not TensorTransform { IsNormalization: true }));

    /// <summary>Parses a spec string; see <see cref="Spec.TransformSpec"/>.</summary>
    public static TransformPipeline Parse(string spec) => Spec.TransformSpec.Parse(spec);

    /// <summary>The pipeline in spec syntax (parses back to an equivalent pipeline).</summary>
    public override string ToString() => string.Join(",", _transforms.Select(t => t.ToString()));
}
