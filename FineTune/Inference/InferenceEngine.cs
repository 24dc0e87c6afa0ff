using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Inference;

/// <summary>Runs a single-input model on a batch and returns its first output: TransferKit's own kernels
/// (<see cref="NativeEngine"/>) or ONNX Runtime (<see cref="OrtEngine"/>).</summary>
public abstract class InferenceEngine : IDisposable
{
    /// <summary>The engine names the command line accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["native", "ort"];

    /// <summary>"native" or "ort".</summary>
    public abstract string Name { get; }

    /// <summary>The model file.</summary>
    public abstract string File { get; }

    /// <summary>The file's metadata_props.</summary>
    public abstract IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The first output for <paramref name="batch"/> (batch first).</summary>
    public abstract Tensor Run(Tensor batch);

    public virtual void Dispose() { }

    /// <summary>Opens <paramref name="file"/> with the named engine.</summary>
    public static InferenceEngine Open(string engine, string file, int threads = 0) => engine.ToLowerInvariant() switch
    {
        "native" => new NativeEngine(file),
        "ort" or "onnxruntime" => new OrtEngine(file, threads),
        _ => throw new ArgumentException($"Unknown engine '{engine}' (native, ort)."),
    };
}
