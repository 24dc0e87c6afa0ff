using System.Buffers.Binary;
using Onnx;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// Reads TensorProto values (typed fields, raw little-endian data or external files). float16 and bfloat16 are
/// widened to float32. External data is read only from relative paths inside the model's own folder.
/// </summary>
public static class TensorProtoReader
{
    /// <param name="checkSize">Told the declared element count before anything is read or allocated (throws to refuse).</param>
    public static ConstTensor Read(TensorProto t, string modelFile, string? node, Action<long>? checkSize = null)
    {
        var type = (OnnxDataType)t.DataType;
        string what = string.IsNullOrEmpty(t.Name) ? "tensor" : $"tensor '{t.Name}'";
        if (t.Dims.Any(d => d < 0 || d > int.MaxValue))
            throw new OnnxImportException(modelFile, node, $"{what} has an invalid dimension in [{string.Join(",", t.Dims)}].");
        long count;
        try { count = Shapes.ElementCount(t.Dims.ToArray().AsSpan()); }
        catch (ShapeException e) { throw new OnnxImportException(modelFile, node, $"{what}: {e.Message}"); }
        checkSize?.Invoke(count);
        var dims = t.Dims.Select(d => (int)d).ToArray();
        int n = (int)count;
        int elemSize = ElementSize(type);
        if (elemSize == 0)
            throw new OnnxImportException(modelFile, node, $"{what} has data type {type}, which is not supported.");

        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            raw = ExternalData.Read(t, modelFile, node, what, (long)n * elemSize);
            hasRaw = true;
        }
        else if (t.HasRawData)
        {
            raw = t.RawData.Span;
            hasRaw = true;
        }

        // The declared size is checked against the data actually present before anything of that size is allocated.
        if (hasRaw)
        {
            if (raw.Length != (long)n * elemSize)
                throw new OnnxImportException(modelFile, node, $"{what} holds {raw.Length} bytes of data; shape [{string.Join(",", dims)}] of {type} needs {(long)n * elemSize}.");
            var data = new double[n];
            for (int i = 0; i < n; i++) data[i] = Decode(type, raw.Slice(i * elemSize, elemSize));
            return new ConstTensor(type, dims, data);
        }

        // Typed repeated fields.
        int available = type switch
        {
            OnnxDataType.Float => t.FloatData.Count,
            OnnxDataType.Double => t.DoubleData.Count,
            OnnxDataType.Int64 => t.Int64Data.Count,
            OnnxDataType.UInt32 or OnnxDataType.UInt64 => t.Uint64Data.Count,
            _ => t.Int32Data.Count,
        };
        if (available != n)
            throw new OnnxImportException(modelFile, node, $"{what} holds {available} values; shape [{string.Join(",", dims)}] needs {n}.");
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = type switch
            {
                OnnxDataType.Float => t.FloatData[i],
                OnnxDataType.Double => t.DoubleData[i],
                OnnxDataType.Int64 => t.Int64Data[i],
                OnnxDataType.UInt32 or OnnxDataType.UInt64 => t.Uint64Data[i],
                OnnxDataType.Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)t.Int32Data[i]),
                OnnxDataType.BFloat16 => ConstTensor.BFloat16ToFloat((ushort)t.Int32Data[i]),
                _ => t.Int32Data[i],
            };
        }
        return new ConstTensor(type, dims, values);
    }

    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
        OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
        OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool => 1,
        _ => 0,
    };

    static double Decode(OnnxDataType type, ReadOnlySpan<byte> b) => type switch
    {
        OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(b),
        OnnxDataType.Double => BinaryPrimitives.ReadDoubleLittleEndian(b),
        OnnxDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
        OnnxDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
        OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        OnnxDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        OnnxDataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
        OnnxDataType.BFloat16 => ConstTensor.BFloat16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(b)),
        OnnxDataType.Int8 => (sbyte)b[0],
        _ => b[0],
    };
}
