using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Inference;

/// <summary>The model run by ONNX Runtime (through <see cref="OrtSession"/>, the Verification helper).</summary>
public sealed class OrtEngine(string file, int threads = 0) : InferenceEngine
{
    readonly OrtSession _session = new(file, threads);

    public override string Name => "ort";
    public override string File => _session.File;
    public override IReadOnlyDictionary<string, string> Metadata => _session.Metadata;

    public override Tensor Run(Tensor batch) => _session.Run(batch);

    public override void Dispose() => _session.Dispose();
}
