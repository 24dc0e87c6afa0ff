namespace TransferKit.Importers.Onnx;

/// <summary>The ONNX op types TransferKit imports, one <see cref="IOnnxOp"/> per type (default domain).</summary>
public static class OnnxOpRegistry
{
    static readonly Dictionary<string, IOnnxOp> Ops = typeof(IOnnxOp).Assembly.GetTypes()
        .Where(t => typeof(IOnnxOp).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
        .Select(t => (IOnnxOp)Activator.CreateInstance(t)!)
        .ToDictionary(o => o.OpType, StringComparer.Ordinal);

    /// <summary>The converter for an op type, or null when the type is not supported.</summary>
    public static IOnnxOp? Find(string opType) => Ops.GetValueOrDefault(opType);

    /// <summary>Every supported op type, sorted.</summary>
    public static IEnumerable<IOnnxOp> All => Ops.Values.OrderBy(o => o.OpType, StringComparer.Ordinal);
}
