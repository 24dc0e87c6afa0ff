using Onnx;

namespace TransferKit.Importers.Onnx;

/// <summary>What <see cref="OnnxExporter"/> wrote, and what it changed relative to the in-memory graph.</summary>
/// <param name="Proto">The exported model.</param>
/// <param name="Options">The options it was written with.</param>
/// <param name="FoldedBatchNorms">Each folded BatchNormalization node and the Conv or Gemm it went into.</param>
/// <param name="RewrittenParameters">
/// Parameters whose exported value differs from the in-memory one on purpose (folded weights and biases) or that
/// are no longer in the file (the folded batch norms' scale, bias, mean and variance).
/// </param>
public sealed record ExportResult(
    ModelProto Proto, ExportOptions Options, IReadOnlyList<(string BatchNorm, string Into)> FoldedBatchNorms, IReadOnlySet<string> RewrittenParameters);
