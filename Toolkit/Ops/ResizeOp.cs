using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Resize (ONNX Resize 10–19 and Upsample 7–9): nearest neighbour on any axis, or linear on the last two axes of a
/// tensor whose other axes keep their size; the output size is floor(in·scale) per axis, or the given sizes (the
/// coordinate scale then is out/in). y = Σ w·x over each output element's input neighbours.
/// Gradient: dx = the adjoint, dy scatter-added to those neighbours with the same weights w.
/// </summary>
public sealed class ResizeOp : Op
{
    /// <param name="mode">Nearest or linear.</param>
    /// <param name="coordinates">How output coordinates map back to the input.</param>
    /// <param name="rounding">Nearest mode's rounding.</param>
    /// <param name="scales">Per-axis scales (output size floor(in·scale)), or null when <paramref name="sizes"/> is given.</param>
    /// <param name="sizes">Per-axis output sizes (0: the input's size, for a batch that follows the input), or null when <paramref name="scales"/> is given.</param>
    /// <param name="roi">tf_crop_and_resize's region: starts of every axis, then ends (normalised); null otherwise.</param>
    /// <param name="extrapolationValue">The value of outputs that map outside the input (tf_crop_and_resize).</param>
    public ResizeOp(ResizeMode mode, ResizeCoordinates coordinates, ResizeRounding rounding, float[]? scales, int[]? sizes,
        float[]? roi = null, float extrapolationValue = 0)
    {
        if ((scales == null) == (sizes == null)) throw new ArgumentException("Resize takes either scales or sizes.");
        if (coordinates == ResizeCoordinates.TfCropAndResize && roi == null) throw new ArgumentException("tf_crop_and_resize needs a region of interest.");
        Mode = mode; Coordinates = coordinates; Rounding = rounding; Scales = scales; Sizes = sizes; Roi = roi; ExtrapolationValue = extrapolationValue;
    }

    /// <summary>Nearest or linear interpolation.</summary>
    public ResizeMode Mode { get; }
    /// <summary>How output coordinates map back to the input.</summary>
    public ResizeCoordinates Coordinates { get; }
    /// <summary>Nearest mode's rounding of a mapped coordinate.</summary>
    public ResizeRounding Rounding { get; }
    /// <summary>Per-axis scales, or null when <see cref="Sizes"/> are given.</summary>
    public float[]? Scales { get; }
    /// <summary>Per-axis output sizes (0: the input's), or null when <see cref="Scales"/> are given.</summary>
    public int[]? Sizes { get; }
    /// <summary>tf_crop_and_resize's region (starts of every axis, then ends, normalised), or null.</summary>
    public float[]? Roi { get; }
    /// <summary>The value of outputs that map outside the input (tf_crop_and_resize).</summary>
    public float ExtrapolationValue { get; }
    /// <inheritdoc/>
    public override string Type => "Resize";

    /// <summary>The geometry for input shape <paramref name="x"/>.</summary>
    public ResizeGeometry Geometry(int[] x)
    {
        int rank = x.Length;
        if (rank < 2) throw new ShapeException($"Resize needs a rank-2 or higher input, got {Shapes.Format(x)}.");
        if ((Scales?.Length ?? Sizes!.Length) != rank)
            throw new ShapeException($"Resize has {(Scales?.Length ?? Sizes!.Length)} {(Scales != null ? "scales" : "sizes")} for a rank-{rank} input {Shapes.Format(x)}.");
        if (Roi != null && Roi.Length != 2 * rank) throw new ShapeException($"Resize roi has {Roi.Length} values for a rank-{rank} input.");
        var outShape = new int[rank]; var scales = new float[rank]; var resized = new float[rank];
        for (int a = 0; a < rank; a++)
        {
            if (Sizes != null)
            {
                outShape[a] = Sizes[a] == 0 ? x[a] : Sizes[a];
                scales[a] = (float)outShape[a] / x[a];
                resized[a] = outShape[a];
            }
            else
            {
                float scale = Scales![a];
                if (!(scale > 0)) throw new ShapeException($"Resize scale {scale} on axis {a} is not positive.");
                float extent = Coordinates == ResizeCoordinates.TfCropAndResize ? Roi![a + rank] - Roi[a] : 1f;
                outShape[a] = (int)Math.Floor(x[a] * extent * scale);
                scales[a] = scale;
                resized[a] = x[a] * extent * scale;
            }
            if (outShape[a] < 1 || x[a] < 1) throw new ShapeException($"Resize of {Shapes.Format(x)} gives an empty axis {a}.");
        }
        var g = new ResizeGeometry(x, outShape, scales, resized, Mode, Coordinates, Rounding, Roi, ExtrapolationValue);
        if (Mode == ResizeMode.Linear && !g.LeadingAxesAreIdentity())
            throw new ShapeException($"linear Resize interpolates the last two axes only; {Shapes.Format(x)} → {Shapes.Format(outShape)} also changes a leading axis (its scale must be 1).");
        return g;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Geometry(inputs[0]).Out];

    // Tables per input shape: a plan runs one shape many times.
    sealed record Cached(int[] Shape, ResizeGeometry G, Resize.Tables T);
    Cached? _cache;

    (ResizeGeometry, Resize.Tables) For(int[] x)
    {
        var c = Volatile.Read(ref _cache);
        if (c != null && c.Shape.AsSpan().SequenceEqual(x)) return (c.G, c.T);
        var g = Geometry(x);
        var t = Resize.Build(g);
        Volatile.Write(ref _cache, new Cached(x, g, t));
        return (g, t);
    }

    public override void Forward(OpContext ctx)
    {
        var (g, t) = For(ctx.Inputs[0].ShapeArray);
        Resize.Forward(g, t, ctx.Inputs[0].Span, ctx.Outputs[0].Span);
    }

    public override bool HasBackward => true;

    /// <summary>The adjoint needs only the shapes.</summary>
    public override bool BackwardReadsInput(int input) => false;

    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        if (ctx.InputGrads[0] is not { } gx) return;
        var (g, t) = For(ctx.Inputs[0].ShapeArray);
        Resize.Backward(g, t, ctx.OutputGrads[0].Span, gx.Span);
    }

    public override string Describe() =>
        $"Resize({Mode}, {Coordinates}{(Mode == ResizeMode.Nearest ? ", " + Rounding : "")}, " +
        (Scales != null ? $"scales=[{string.Join(",", Scales)}]" : $"sizes=[{string.Join(",", Sizes!)}]") + ")";
}
