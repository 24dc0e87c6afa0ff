using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx.Export;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx;

/// <summary>What to write besides the weights.</summary>
public sealed record ExportOptions
{
    /// <summary>Entries for the model's metadata_props (class labels, preprocessing, …).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Fold each inference-mode BatchNormalization that directly follows a Conv or Gemm (whose output nothing else
    /// reads) into that node's weights and bias, and leave it out of the file. The in-memory graph is not changed.
    /// </summary>
    public bool FoldBatchNorm { get; init; }

    /// <summary>
    /// When set, the file takes raw RGB 0–255 NCHW float input (same input name) and applies this normalisation
    /// itself; metadata_props record the input format.
    /// </summary>
    public InputNormalization? BakePreprocess { get; init; }
}

/// <summary>
/// Writes an imported (and possibly fine-tuned) model back to ONNX. The original file's graph is kept — same ops,
/// opset and node names — with every parameter written as a float32 initializer holding its current value (a new
/// head's new shape included), weights that lived in Constant nodes or folded subgraphs turned into initializers,
/// a dynamic batch axis on inputs and outputs, and reshapes whose batch was fixed at 1 made to copy the batch.
/// On request it folds batch norms into the layers before them and bakes the input normalisation into the graph;
/// neither adds an op that the original opset lacks, so opset_import is written back unchanged.
/// The file is written atomically (temporary file, then rename).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The first IR version in which initializers need not also be graph inputs.</summary>
    public const long MinIrVersionWithoutWeightInputs = 4;

    public const string BatchDimension = "N";

    public static ModelProto ToProto(ImportedModel model, ExportOptions? options = null) => Export(model, options).Proto;

    /// <summary>Builds the exported model and says what the export options changed.</summary>
    public static ExportResult Export(ImportedModel model, ExportOptions? options = null)
    {
        options ??= new ExportOptions();
        var proto = model.Proto.Clone();
        var g = proto.Graph;
        var parameters = model.Graph.Parameters.ToDictionary(p => p.Name);

        // Weights: replace or add initializers, drop what produced them before (Constant nodes, folded subgraphs).
        var initializers = g.Initializer.ToDictionary(t => t.Name);
        foreach (var p in parameters.Values)
        {
            var t = FloatTensor(p.Name, p.Value.ShapeArray, p.Value.Span);
            if (initializers.TryGetValue(p.Name, out var old)) g.Initializer[g.Initializer.IndexOf(old)] = t;
            else g.Initializer.Add(t);
        }
        // Remaining float16 weights (unused by the runtime graph) and inputs/outputs become float32, like the graph.
        for (int i = 0; i < g.Initializer.Count; i++)
            if (g.Initializer[i].DataType == (int)TensorProto.Types.DataType.Float16)
            {
                var c = TensorProtoReader.Read(g.Initializer[i], model.File, null);
                g.Initializer[i] = FloatTensor(g.Initializer[i].Name, c.Dims, c.ToFloats());
            }
        var initNames = g.Initializer.Select(t => t.Name).ToHashSet();
        RemoveProducersOf(g, initNames);

        // Reshapes that follow the batch at run time: their fixed leading 1 becomes 0 (copy the input's batch).
        foreach (var node in model.Graph.Nodes.Where(n => n.Op is ReshapeOp { SourceType: "Reshape" } r && r.Target.Length > 0 && r.Target[0].CopyFrom == 0))
        {
            var onnx = g.Node.FirstOrDefault(n => n.OpType == "Reshape" && n.Output.Contains(node.Outputs[0].Name));
            if (onnx == null || onnx.Input.Count < 2) continue;
            var shapeName = onnx.Input[1];
            var init = g.Initializer.FirstOrDefault(t => t.Name == shapeName);
            if (init == null) continue;
            var values = TensorProtoReader.Read(init, model.File, null).ToLongs();
            if (values.Length == 0 || values[0] <= 0) continue;
            values[0] = 0;
            var replacement = new TensorProto { Name = shapeName, DataType = (int)TensorProto.Types.DataType.Int64 };
            replacement.Dims.Add(values.Length);
            replacement.Int64Data.AddRange(values);
            // A shape tensor shared with another node keeps its value there: give this node its own copy.
            bool shared = g.Node.Count(n => n.Input.Contains(shapeName)) > 1;
            if (shared)
            {
                replacement.Name = shapeName + "_batch";
                onnx.Input[1] = replacement.Name;
                g.Initializer.Add(replacement);
            }
            else g.Initializer[g.Initializer.IndexOf(init)] = replacement;
        }

        // Old-IR graphs list weights among the inputs; list only the real inputs, each with a dynamic batch. Below IR 4
        // every initializer had to be a graph input, so such files move to IR 4 (the opset imports stay as they were).
        var realInputs = model.Inputs.Select(i => i.Name).ToHashSet();
        var keepInputs = g.Input.Where(i => realInputs.Contains(i.Name)).ToList();
        g.Input.Clear();
        g.Input.AddRange(keepInputs);
        if (proto.IrVersion < MinIrVersionWithoutWeightInputs) proto.IrVersion = MinIrVersionWithoutWeightInputs;
        foreach (var vi in g.Input) SetDynamicBatch(vi, float32: true);
        var plan = new ExecutionPlan(model.Graph, model.Graph.Inputs.Select(v => Probe(v)).ToArray());
        for (int o = 0; o < g.Output.Count; o++)
        {
            var vo = g.Output[o];
            var value = model.Graph.Outputs.Count > o ? model.Graph.Outputs[o] : null;
            vo.Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } };
            if (value != null)
            {
                var shape = new TensorShapeProto();
                var dims = plan.Shapes[value.Id];
                for (int d = 0; d < dims.Length; d++)
                    shape.Dim.Add(d == 0 ? new TensorShapeProto.Types.Dimension { DimParam = BatchDimension } : new TensorShapeProto.Types.Dimension { DimValue = dims[d] });
                vo.Type.TensorType.Shape = shape;
            }
        }
        // Intermediate shape annotations may be stale (a new head changes them); ONNX Runtime infers them again.
        g.ValueInfo.Clear();

        // Optional rewrites, on the copy: the parameters in memory keep their values.
        List<(string, string)> folded = [];
        HashSet<string> rewritten = [];
        if (options.FoldBatchNorm) (folded, rewritten) = BatchNormFolding.Fold(g, model.Opset, model.File);
        var metadata = options.Metadata.ToDictionary();
        if (options.BakePreprocess is { } baked)
        {
            PreprocessBaking.Bake(g, baked, model.File);
            metadata[PreprocessBaking.InputFormatKey] = PreprocessBaking.RawRgbFormat;
            metadata[PreprocessBaking.BakedKey] = PreprocessBaking.Describe(baked);
        }

        foreach (var (key, value) in metadata)
        {
            var existing = proto.MetadataProps.FirstOrDefault(p => p.Key == key);
            if (existing != null) existing.Value = value;
            else proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        proto.ProducerName = "TransferKit";
        proto.ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0";
        return new ExportResult(proto, options, folded, rewritten);
    }

    static int[] Probe(Value input) => input.DeclaredShape!.Select((d, i) => i == 0 ? 1 : d > 0 ? d : OnnxImporter.DynamicSizeAtImport).ToArray();

    /// <summary>Writes the model to <paramref name="path"/> atomically; returns what was written.</summary>
    public static ExportResult Save(ImportedModel model, string path, ExportOptions? options = null)
    {
        var result = Export(model, options);
        var bytes = result.Proto.ToByteArray();
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, full, overwrite: true);
        return result;
    }

    static void SetDynamicBatch(ValueInfoProto vi, bool float32)
    {
        var tt = vi.Type?.TensorType;
        if (tt == null) return;
        if (float32) tt.ElemType = (int)TensorProto.Types.DataType.Float;
        if (tt.Shape == null || tt.Shape.Dim.Count == 0) return;
        tt.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchDimension };
    }

    /// <summary>A float32 initializer with raw little-endian data.</summary>
    internal static TensorProto FloatTensor(string name, int[] dims, ReadOnlySpan<float> values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims.Select(d => (long)d));
        var bytes = new byte[values.Length * 4];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(bytes);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    /// <summary>Removes nodes that produce an initializer's name, then nodes whose outputs nothing reads.</summary>
    static void RemoveProducersOf(GraphProto g, HashSet<string> names)
    {
        foreach (var n in g.Node.Where(n => n.Output.Any(names.Contains)).ToList()) g.Node.Remove(n);
        var outputs = g.Output.Select(o => o.Name).ToHashSet();
        bool removed;
        do
        {
            var used = g.Node.SelectMany(n => n.Input).Concat(outputs).ToHashSet();
            var dead = g.Node.Where(n => n.Output.All(o => o.Length == 0 || !used.Contains(o))).ToList();
            foreach (var n in dead) g.Node.Remove(n);
            removed = dead.Count > 0;
        } while (removed);
        var stillUsed = g.Node.SelectMany(n => n.Input).Concat(outputs).ToHashSet();
        foreach (var t in g.Initializer.Where(t => !stillUsed.Contains(t.Name)).ToList()) g.Initializer.Remove(t);
    }
}
