namespace TransferKit.Toolkit.Tensors;

/// <summary>
/// A dense, row-major float32 tensor. The data lives in a managed array that may be larger than
/// the tensor (buffers are reused across shapes by the execution plan); <see cref="Span"/> is the
/// exact element range.
/// </summary>
public sealed class Tensor
{
    int[] _shape;

    public Tensor(int[] shape, float[] data)
    {
        _shape = (int[])shape.Clone();
        long n = Shapes.ElementCount(_shape);
        if (data.Length < n)
            throw new ArgumentException($"Buffer of {data.Length} elements is too small for shape {Shapes.Format(_shape)}.");
        Data = data;
        Length = (int)n;
    }

    public Tensor(params int[] shape) : this(shape, new float[Shapes.ElementCount(shape)]) { }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ShapeArray => (int[])_shape.Clone();

    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length { get; private set; }

    /// <summary>The backing array; only the first <see cref="Length"/> elements belong to the tensor.</summary>
    public float[] Data { get; private set; }

    public Span<float> Span => Data.AsSpan(0, Length);

    public int Dim(int axis) => _shape[axis < 0 ? axis + _shape.Length : axis];

    /// <summary>Reinterprets the same elements with another shape of equal element count.</summary>
    public Tensor Reshaped(params int[] shape)
    {
        if (Shapes.ElementCount(shape) != Length)
            throw new ArgumentException($"Cannot view {Shapes.Format(_shape)} as {Shapes.Format(shape)}.");
        return new Tensor(shape, Data);
    }

    /// <summary>Points this tensor at a (possibly reused) buffer with a new shape.</summary>
    internal void Rebind(int[] shape, float[] data)
    {
        long n = Shapes.ElementCount(shape);
        if (data.Length < n) throw new ArgumentException("Buffer too small.");
        _shape = shape;
        Data = data;
        Length = (int)n;
    }

    public Tensor Clone() => new(_shape, Span.ToArray());

    public static Tensor FromArray(float[] data, params int[] shape) => new(shape, data);

    public override string ToString() => $"Tensor{Shapes.Format(_shape)}";
}
