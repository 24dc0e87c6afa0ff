using TransferKit.Toolkit.Ops;

namespace TransferKit.Toolkit.Graph;

/// <summary>One op applied to values of the graph.</summary>
public sealed class Node(string name, Op op, Value[] inputs, Value[] outputs)
{
    public string Name { get; } = name;
    public Op Op { get; set; } = op;
    public Value[] Inputs { get; } = inputs;
    public Value[] Outputs { get; } = outputs;
    /// <summary>Position in the graph's topological order.</summary>
    public int Index { get; internal set; }
    public override string ToString() => $"{Name} ({Op.Type})";
}
