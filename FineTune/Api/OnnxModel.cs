using TransferKit.FineTune.Catalog;
using TransferKit.Importers.Onnx;

namespace TransferKit;

/// <summary>
/// A pretrained ONNX model to fine-tune: a file, or a name in the model catalogue (<c>squeezenet1.1</c>, …) found
/// locally or downloaded and checked as the command line does. <see cref="Load"/> imports it once, so a model
/// TransferKit cannot read is refused here with the importer's message (naming the node and op), not at training.
/// </summary>
public sealed class OnnxModel
{
    OnnxModel(string path, string[] inputs, int[] inputShape, long parameters)
    {
        Path = path; Inputs = inputs; InputShape = inputShape; Parameters = parameters;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The file name without extension.</summary>
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    /// <summary>The graph's real inputs, by name.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The first input's shape as the file declares it (a free axis is -1).</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Float weights of the imported graph (constants not counted).</summary>
    public long Parameters { get; }

    /// <summary>Opens <paramref name="fileOrCatalogName"/> (see the class summary).</summary>
    /// <exception cref="FileNotFoundException">Neither a file nor a catalogue name.</exception>
    /// <exception cref="OnnxImportException">The file is not a model TransferKit can import.</exception>
    public static OnnxModel Load(string fileOrCatalogName)
    {
        var path = System.IO.Path.GetFullPath(ModelResolver.FromEnvironment().Resolve(fileOrCatalogName));
        var model = OnnxImporter.Import(path);
        return new OnnxModel(path, model.Inputs.Select(i => i.Name).ToArray(),
            model.Inputs.Count > 0 ? model.Inputs[0].Dims.ToArray() : [],
            model.Graph.Parameters.Where(p => !p.IsConstant).Sum(p => (long)p.Value.Length));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Parameters:N0} parameters)";
}
