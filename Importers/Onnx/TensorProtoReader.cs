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
    public static ConstTensor Read(TensorProto t, string modelFile, string? node)
    {
        var type = (OnnxDataType)t.DataType;
        string what = string.IsNullOrEmpty(t.Name) ? "tensor" : $"tensor '{t.Name}'";
        if (t.Dims.Any(d => d < 0 || d > int.MaxValue))
            throw new OnnxImportException(modelFile, node, $"{what} has an invalid dimension in [{string.Join(",", t.Dims)}].");
        long count;
        try { count = Shapes.ElementCount(t.Dims.ToArray().AsSpan()); }
        catch (ShapeException e) { throw new OnnxImportException(modelFile, node, $"{what}: {e.Message}"); }
        var dims = t.Dims.Select(d => (int)d).ToArray();
        int n = (int)count;
        int elemSize = ElementSize(type);
        if (elemSize == 0)
            throw new OnnxImportException(modelFile, node, $"{what} has data type {type}, which is not supported.");

        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            raw = ReadExternal(t, modelFile, node, what, (long)n * elemSize);
            hasRaw = true;
        }
        else if (t.HasRawData)
        {
            raw = t.RawData.Span;
            hasRaw = true;
        }

        var data = new double[n];
        if (hasRaw)
        {
            if (raw.Length != (long)n * elemSize)
                throw new OnnxImportException(modelFile, node, $"{what} holds {raw.Length} bytes of data; shape [{string.Join(",", dims)}] of {type} needs {(long)n * elemSize}.");
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
        for (int i = 0; i < n; i++)
        {
            data[i] = type switch
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
        return new ConstTensor(type, dims, data);
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

    static byte[] ReadExternal(TensorProto t, string modelFile, string? node, string what, long expected)
    {
        string? location = null; long offset = 0; long length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset": offset = long.Parse(kv.Value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "length": length = long.Parse(kv.Value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new OnnxImportException(modelFile, node, $"{what} has external data without a location.");
        var folder = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(modelFile)) ?? ".");
        if (Path.IsPathRooted(location))
            throw new OnnxImportException(modelFile, node, $"{what}: external data path '{location}' is absolute; only paths inside the model's folder are read.");
        var full = Path.GetFullPath(Path.Combine(folder, location));
        var rel = Path.GetRelativePath(folder, full);
        if (rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel))
            throw new OnnxImportException(modelFile, node, $"{what}: external data path '{location}' leads outside the model's folder.");
        if (!System.IO.File.Exists(full))
            throw new OnnxImportException(modelFile, node, $"{what}: external data file '{location}' does not exist.");
        if (length < 0) length = expected;
        using var fs = System.IO.File.OpenRead(full);
        if (offset < 0 || offset + length > fs.Length)
            throw new OnnxImportException(modelFile, node, $"{what}: external data '{location}' is {fs.Length} bytes; offset {offset} + length {length} runs past its end.");
        if (length != expected)
            throw new OnnxImportException(modelFile, node, $"{what}: external data length {length} does not match the {expected} bytes its shape needs.");
        var buf = new byte[length];
        fs.Seek(offset, SeekOrigin.Begin);
        fs.ReadExactly(buf);
        return buf;
    }
}
