using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Kernels;

/// <summary>Interpolation of Resize: nearest neighbour on every axis, or linear on the last two.</summary>
public enum ResizeMode { Nearest, Linear }

/// <summary>How an output coordinate maps back to the input (ONNX coordinate_transformation_mode).</summary>
public enum ResizeCoordinates { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNearest, TfCropAndResize }

/// <summary>How nearest mode rounds a mapped coordinate (ONNX nearest_mode; Simple is the rule before opset 11).</summary>
public enum ResizeRounding
{
    RoundPreferFloor, RoundPreferCeil, Floor, Ceil,
    /// <summary>Resize-10 and Upsample: floor when the axis grows or keeps its size, ceil when it shrinks (as ONNX Runtime).</summary>
    Simple,
}

/// <summary>
/// Shape and coordinate mapping of one Resize: input and output shapes, the per-axis scale used by the coordinate
/// transform (the given scale, or output/input when sizes were given), the resized length align_corners and
/// tf_crop_and_resize divide by (in·scale as the ONNX specification has it when scales were given, not the floored
/// output size; the output size when sizes were given), the region of interest of tf_crop_and_resize.
/// Arithmetic is float32, as ONNX Runtime's, so ties of nearest rounding fall the same way.
/// </summary>
public sealed record ResizeGeometry(int[] In, int[] Out, float[] Scales, float[] ResizedLengths, ResizeMode Mode, ResizeCoordinates Coordinates,
    ResizeRounding Rounding, float[]? Roi, float ExtrapolationValue)
{
    /// <summary>Elements of the input.</summary>
    public long InputLength => Shapes.ElementCount(In);
    /// <summary>Elements of the output.</summary>
    public long OutputLength => Shapes.ElementCount(Out);

    /// <summary>The input coordinate output index <paramref name="x"/> of axis <paramref name="axis"/> maps to.</summary>
    public float Original(int axis, int x)
    {
        float scale = Scales[axis], resized = ResizedLengths[axis];
        int inLen = In[axis], outLen = Out[axis];
        return Coordinates switch
        {
            ResizeCoordinates.HalfPixel => (x + 0.5f) / scale - 0.5f,
            ResizeCoordinates.PytorchHalfPixel => outLen > 1 ? (x + 0.5f) / scale - 0.5f : 0f,
            ResizeCoordinates.AlignCorners => resized == 1 ? 0f : x * (float)(inLen - 1) / (resized - 1),
            ResizeCoordinates.Asymmetric => x / scale,
            ResizeCoordinates.TfHalfPixelForNearest => (x + 0.5f) / scale,
            ResizeCoordinates.TfCropAndResize => CropAndResize(axis, x),
            _ => throw new InvalidOperationException($"coordinate mode {Coordinates}"),
        };
    }

    float CropAndResize(int axis, int x)
    {
        int rank = In.Length, inLen = In[axis];
        float resized = ResizedLengths[axis];
        float start = Roi![axis], end = Roi[axis + rank];
        return resized != 1
            ? start * (inLen - 1) + x * (end - start) * (inLen - 1) / (resized - 1)
            : 0.5f * (start + end) * (inLen - 1);
    }

    /// <summary>Whether a mapped coordinate lies outside the input and the output takes the extrapolation value (tf_crop_and_resize only).</summary>
    public bool Extrapolates(int axis, double c) => Coordinates == ResizeCoordinates.TfCropAndResize && (c < 0 || c > In[axis] - 1);

    /// <summary>The nearest input index of a mapped coordinate on <paramref name="axis"/>, clamped to the input.</summary>
    public int Nearest(int axis, float c)
    {
        double i = Rounding switch
        {
            ResizeRounding.RoundPreferFloor => c == Math.Floor(c) + 0.5 ? Math.Floor(c) : Math.Round(c, MidpointRounding.AwayFromZero),
            ResizeRounding.RoundPreferCeil => c == Math.Floor(c) + 0.5 ? Math.Ceiling(c) : Math.Round(c, MidpointRounding.AwayFromZero),
            ResizeRounding.Floor => Math.Floor(c),
            ResizeRounding.Ceil => Math.Ceiling(c),
            ResizeRounding.Simple => Scales[axis] < 1 ? Math.Ceiling(c) : Math.Truncate(c),
            _ => throw new InvalidOperationException($"rounding {Rounding}"),
        };
        return (int)Math.Clamp(i, 0, In[axis] - 1);
    }

    /// <summary>Whether every axis but the last two keeps its size and maps each index to itself (linear mode requires it).</summary>
    public bool LeadingAxesAreIdentity()
    {
        for (int a = 0; a < In.Length - 2; a++)
        {
            if (In[a] != Out[a]) return false;
            for (int x = 0; x < Out[a]; x++)
                if (Extrapolates(a, Original(a, x)) || Nearest(a, Original(a, x)) != x) return false;
        }
        return true;
    }
}
