using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Inference;

/// <summary>The model imported by <see cref="OnnxImporter"/> and run by a <see cref="GraphRunner"/> in inference mode.</summary>
public sealed class NativeEngine : InferenceEngine
{
    readonly GraphRunner _runner;

    public NativeEngine(string file)
    {
        Model = OnnxImporter.Import(file);
        if (Model.Inputs.Count != 1)
            throw new NotSupportedException($"{file}: the model has {Model.Inputs.Count} inputs; only single-input models can be run here.");
        _runner = new GraphRunner(Model.Graph, optimize: true);
    }

    public ImportedModel Model { get; }

    public override string Name => "native";
    public override string File => Model.File;
    public override IReadOnlyDictionary<string, string> Metadata => Model.Metadata;

    public override Tensor Run(Tensor batch) => _runner.Infer([batch])[0].Clone();
}
