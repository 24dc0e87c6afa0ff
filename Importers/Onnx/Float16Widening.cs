using Google.Protobuf;
using Onnx;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// Turns a float16 ONNX model into its exact float32 widening: every FLOAT16 initializer and Constant tensor becomes
/// FLOAT32 raw data holding the same values, and FLOAT16 graph inputs, outputs and value annotations become FLOAT32.
/// Nothing else changes (same graph, names, opset), so a model widened here is byte-for-byte the file other tools
/// produce by the same rule — the catalogue checks the result against a published sha256.
/// </summary>
public static class Float16Widening
{
    /// <summary>The catalogue's name for this derivation.</summary>
    public const string Name = "float16-to-float32";

    /// <summary>Widens <paramref name="model"/> in place and records where it came from in doc_string.</summary>
    /// <param name="sourceName">The original file's name, written into doc_string (empty doc strings only get the note).</param>
    /// <exception cref="NotSupportedException">A node computes in float16 (a Cast to FLOAT16), which widening types alone cannot change.</exception>
    public static ModelProto Widen(ModelProto model, string sourceName)
    {
        var g = model.Graph;
        var cast = g.Node.FirstOrDefault(n => n.OpType == "Cast" && n.Attribute.Any(a => a.Name == "to" && a.I == (long)TensorProto.Types.DataType.Float16));
        if (cast != null)
            throw new NotSupportedException($"{sourceName}: node '{cast.Name}' casts to FLOAT16; widening initializers and types would not make that model float32.");
        for (int i = 0; i < g.Initializer.Count; i++) WidenTensor(g.Initializer[i]);
        foreach (var n in g.Node)
            foreach (var a in n.Attribute)
            {
                if (a.T != null) WidenTensor(a.T);
                foreach (var t in a.Tensors) WidenTensor(t);
            }
        foreach (var vi in g.Input.Concat(g.Output).Concat(g.ValueInfo))
            if (vi.Type?.TensorType is { ElemType: (int)TensorProto.Types.DataType.Float16 } tt) tt.ElemType = (int)TensorProto.Types.DataType.Float;
        var note = $"Converted FLOAT16->FLOAT32 (exact widening of fp16 weights) from {sourceName}.";
        model.DocString = string.IsNullOrEmpty(model.DocString) ? note : model.DocString + "\n" + note;
        return model;
    }

    static void WidenTensor(TensorProto t)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float16) return;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new NotSupportedException($"float16 tensor '{t.Name}' keeps its data in an external file; widening reads embedded data only.");
        float[] values;
        if (t.HasRawData)
        {
            var raw = t.RawData.Span;
            values = new float[raw.Length / 2];
            for (int i = 0; i < values.Length; i++) values[i] = (float)BitConverter.UInt16BitsToHalf(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(2 * i, 2)));
        }
        else values = t.Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray();
        var bytes = new byte[values.Length * 4];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
        t.Int32Data.Clear();
        t.DataType = (int)TensorProto.Types.DataType.Float;
        t.RawData = ByteString.CopyFrom(bytes);
    }
}
