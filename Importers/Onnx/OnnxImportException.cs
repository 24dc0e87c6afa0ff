namespace TransferKit.Importers.Onnx;

/// <summary>
/// A model that cannot be imported. The message names the file and, where one is involved, the node
/// (and for unsupported ops the op type, domain and opset).
/// </summary>
public sealed class OnnxImportException : Exception
{
    public string File { get; }
    public string? NodeName { get; }

    public OnnxImportException(string file, string? node, string message, Exception? inner = null)
        : base(Compose(file, node, message), inner)
    {
        File = file;
        NodeName = node;
    }

    static string Compose(string file, string? node, string message) =>
        node == null ? $"{file}: {message}" : $"{file}: node '{node}': {message}";
}
