namespace TransferKit.Importers.Onnx;

/// <summary>
/// How one ONNX op type becomes Toolkit ops. One implementation per op type under <c>Onnx/Ops/</c>, registered in
/// <see cref="OnnxOpRegistry"/>; ONNX op and attribute names are kept verbatim there.
/// </summary>
public interface IOnnxOp
{
    /// <summary>The ONNX op type, e.g. "Conv".</summary>
    string OpType { get; }

    /// <summary>The oldest default-domain opset whose definition of this op is handled.</summary>
    int MinOpset => 1;

    /// <summary>The newest default-domain opset whose definition of this op is handled.</summary>
    int MaxOpset => OnnxImporter.MaxOpset;

    /// <summary>Whether the runtime graph can run it forward (false for ops that only fold at import).</summary>
    bool Runtime => true;

    /// <summary>Imports one node: emits runtime ops or sets constant outputs.</summary>
    void Import(OnnxNodeContext ctx);
}
