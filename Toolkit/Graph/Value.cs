namespace TransferKit.Toolkit.Graph;

/// <summary>A tensor-valued edge of the graph: an input, a parameter or a node output.</summary>
public sealed class Value(int id, string name, ValueKind kind)
{
    public int Id { get; } = id;
    public string Name { get; } = name;
    public ValueKind Kind { get; } = kind;
    /// <summary>The parameter behind a <see cref="ValueKind.Parameter"/> value.</summary>
    public Parameter? Parameter { get; init; }
    /// <summary>For inputs: the declared shape, with -1 for a dimension chosen at run time (the batch).</summary>
    public int[]? DeclaredShape { get; set; }
    /// <summary>The node that computes it (activations only).</summary>
    public Node? Producer { get; internal set; }
    public override string ToString() => Name;
}
