using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// A tensor whose value is known at import time (an initializer, a Constant node or a folded subgraph).
/// Values are held as double, which represents every int32 and float and every int64 shape value exactly.
/// </summary>
public sealed class ConstTensor(OnnxDataType type, int[] dims, double[] data)
{
    public OnnxDataType Type { get; } = type;
    public int[] Dims { get; } = dims;
    public double[] Data { get; } = data;
    public int Length => Data.Length;
    public bool IsFloat => Type is OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double or OnnxDataType.BFloat16;

    /// <summary>
    /// Per element, whether it is the batch size read from a run-time shape: <c>Shape</c> of a batch-carrying value,
    /// carried through the folded shape arithmetic that moves elements without computing on them (Gather, Slice,
    /// Concat, Unsqueeze, Squeeze, Reshape, Cast, Where). Null when no element is. An Expand, Tile or Reshape whose
    /// target holds such an element takes it from the batch at run time instead of the import batch.
    /// </summary>
    public bool[]? BatchMask { get; init; }

    /// <summary>The ONNX name of a run-time value whose axis 0 is that batch (the input of the <c>Shape</c> it came from).</summary>
    public string? BatchSource { get; init; }

    /// <summary>Whether any element is the run-time batch (see <see cref="BatchMask"/>).</summary>
    public bool HasBatch => BatchMask != null && Array.IndexOf(BatchMask, true) >= 0;

    /// <summary>Whether element <paramref name="i"/> is the run-time batch.</summary>
    public bool IsBatch(int i) => BatchMask != null && BatchMask[i];

    /// <summary>The batch mask as a 0/1 tensor of the same shape (so the folding that moves the values can move it too).</summary>
    public ConstTensor MaskTensor() =>
        new(OnnxDataType.Int64, Dims, BatchMask == null ? new double[Length] : Array.ConvertAll(BatchMask, b => b ? 1.0 : 0.0));

    /// <summary>This tensor with the batch mask of <paramref name="mask"/> (a moved <see cref="MaskTensor"/>) from <paramref name="source"/>.</summary>
    public ConstTensor WithBatch(ConstTensor mask, string? source) =>
        new(Type, Dims, Data) { BatchMask = Array.ConvertAll(mask.Data, v => v != 0), BatchSource = source };

    public static ConstTensor FromFloats(float[] values, int[] dims) =>
        new(OnnxDataType.Float, dims, Array.ConvertAll(values, v => (double)v));

    public static ConstTensor FromInts(long[] values, int[] dims) =>
        new(OnnxDataType.Int64, dims, Array.ConvertAll(values, v => (double)v));

    public static ConstTensor Scalar(OnnxDataType type, double v) => new(type, [], [v]);

    public float[] ToFloats() => Array.ConvertAll(Data, v => (float)v);

    public long[] ToLongs() => Array.ConvertAll(Data, v => (long)v);

    public int[] ToInts() => Array.ConvertAll(Data, v => checked((int)v));

    public Tensor ToTensor() => new(Dims, ToFloats());

    public static ConstTensor FromTensor(Tensor t) => FromFloats(t.Span.ToArray(), t.ShapeArray);

    /// <summary>Rounds values to the precision of <paramref name="type"/> (as a cast would).</summary>
    public static double Round(OnnxDataType type, double v) => type switch
    {
        OnnxDataType.Float => (float)v,
        OnnxDataType.Float16 => (double)(Half)v,
        OnnxDataType.Double => v,
        OnnxDataType.Bool => v != 0 ? 1 : 0,
        OnnxDataType.BFloat16 => BFloat16ToFloat(FloatToBFloat16((float)v)),
        OnnxDataType.Int8 => unchecked((sbyte)(long)v),
        OnnxDataType.UInt8 => unchecked((byte)(long)v),
        OnnxDataType.Int16 => unchecked((short)(long)v),
        OnnxDataType.UInt16 => unchecked((ushort)(long)v),
        OnnxDataType.Int32 => unchecked((int)(long)v),
        OnnxDataType.UInt32 => unchecked((uint)(long)v),
        _ => Math.Truncate(v),
    };

    public static float BFloat16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    static ushort FloatToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public override string ToString() => $"{Type}{Shapes.Format(Dims)}";
}

/// <summary>ONNX TensorProto.DataType values.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}
