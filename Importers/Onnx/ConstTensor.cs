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
    /// Per element, how many times the run-time batch it is (0: not read from the batch). <c>Shape</c> of a
    /// batch-carrying value marks its batch element 1; the folded shape arithmetic that moves elements (Gather, Slice,
    /// Concat, Unsqueeze, Squeeze, Reshape, Cast, Where, Expand, Tile) carries the marks, and Mul by an unmarked constant
    /// scales them (batch × heads in attention reshapes). Null when no element is marked. An Expand or Tile target
    /// element that is the batch, or a Reshape target element that depends on it, follows the batch at run time instead
    /// of the import batch.
    /// </summary>
    public double[]? BatchFactor { get; init; }

    /// <summary>The ONNX name of a run-time value whose axis 0 is that batch (the input of the <c>Shape</c> it came from).</summary>
    public string? BatchSource { get; init; }

    /// <summary>Whether any element is read from the run-time batch (see <see cref="BatchFactor"/>).</summary>
    public bool HasBatch => BatchFactor != null && Array.Exists(BatchFactor, f => f != 0);

    /// <summary>Whether element <paramref name="i"/> is the run-time batch itself.</summary>
    public bool IsBatch(int i) => BatchFactor != null && BatchFactor[i] == 1;

    /// <summary>Whether element <paramref name="i"/> is a multiple of the run-time batch (the batch itself included).</summary>
    public bool DependsOnBatch(int i) => BatchFactor != null && BatchFactor[i] != 0;

    /// <summary>The batch factors as a tensor of the same shape (so the folding that moves the values can move them too).</summary>
    public ConstTensor FactorTensor() => new(OnnxDataType.Int64, Dims, BatchFactor ?? new double[Length]);

    /// <summary>This tensor with the batch factors of <paramref name="factors"/> (a moved <see cref="FactorTensor"/>) from <paramref name="source"/>.</summary>
    public ConstTensor WithBatch(ConstTensor factors, string? source) =>
        new(Type, Dims, Data) { BatchFactor = factors.Data, BatchSource = source };

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
