using Onnx;
using TransferKit.Toolkit.Graph;

namespace TransferKit.Importers.Onnx;

/// <summary>A graph input or output as the ONNX file declares it.</summary>
/// <param name="Dims">Declared dimensions; -1 for a symbolic or unknown one.</param>
public sealed record ModelTensorInfo(string Name, OnnxDataType ElementType, int[] Dims);

/// <summary>The result of importing an ONNX file: the runtime graph plus what the file said about itself.</summary>
public sealed class ImportedModel
{
    public required string File { get; init; }
    public required ComputeGraph Graph { get; init; }
    public required ModelProto Proto { get; init; }
    public long IrVersion => Proto.IrVersion;
    public required int Opset { get; init; }
    public string Producer => $"{Proto.ProducerName} {Proto.ProducerVersion}".Trim();
    public required IReadOnlyList<ModelTensorInfo> Inputs { get; init; }
    public required IReadOnlyList<ModelTensorInfo> Outputs { get; init; }
    /// <summary>ONNX value name → runtime value, for every value that exists at run time (used by per-node verification).</summary>
    public required IReadOnlyDictionary<string, Value> ValuesByOnnxName { get; init; }
    /// <summary>ONNX node name (as imported) → op type, in the file's topological order.</summary>
    public required IReadOnlyList<(string Name, string OpType, string[] Outputs)> OnnxNodes { get; init; }
    public IReadOnlyDictionary<string, string> Metadata => Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);

    /// <summary>How many nodes of each ONNX op type the file has.</summary>
    public IReadOnlyDictionary<string, int> OpHistogram =>
        OnnxNodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
}
