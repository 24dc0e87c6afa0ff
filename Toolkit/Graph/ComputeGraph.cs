using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// The engine's graph: values, parameters and nodes in topological order. Built by an importer (or by hand),
/// run by an <see cref="ExecutionPlan"/>.
/// </summary>
public sealed class ComputeGraph
{
    readonly List<Value> _values = [];
    readonly List<Node> _nodes = [];
    readonly Dictionary<string, Value> _byName = new(StringComparer.Ordinal);
    readonly List<Value> _inputs = [];
    readonly List<Value> _outputs = [];

    public string Name { get; set; } = "graph";
    public IReadOnlyList<Value> Values => _values;
    public IReadOnlyList<Node> Nodes => _nodes;
    public IReadOnlyList<Value> Inputs => _inputs;
    public IReadOnlyList<Value> Outputs => _outputs;
    public IEnumerable<Parameter> Parameters => _values.Where(v => v.Kind == ValueKind.Parameter).Select(v => v.Parameter!);

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount => Parameters.Sum(p => (long)p.Value.Length);

    public Value? Find(string name) => _byName.GetValueOrDefault(name);

    public Value AddInput(string name, int[] declaredShape)
    {
        var v = NewValue(name, ValueKind.Input);
        v.DeclaredShape = declaredShape;
        _inputs.Add(v);
        return v;
    }

    public Value AddParameter(string name, Tensor value)
    {
        var v = new Value(_values.Count, name, ValueKind.Parameter) { Parameter = new Parameter(name, value) };
        Register(v);
        return v;
    }

    /// <summary>Appends a node; its inputs must already exist (so nodes stay in topological order).</summary>
    public Node AddNode(string name, Op op, Value[] inputs, string[] outputNames)
    {
        foreach (var i in inputs)
            if (i.Id >= _values.Count || _values[i.Id] != i)
                throw new InvalidOperationException($"Node '{name}': input '{i.Name}' does not belong to this graph.");
        var outs = outputNames.Select(n => NewValue(n, ValueKind.Activation)).ToArray();
        var node = new Node(name, op, inputs, outs) { Index = _nodes.Count };
        foreach (var o in outs) o.Producer = node;
        _nodes.Add(node);
        return node;
    }

    public void MarkOutput(Value v) => _outputs.Add(v);

    /// <summary>Replaces a graph output (e.g. when a head is cut off).</summary>
    public void SetOutputs(IEnumerable<Value> outputs) { _outputs.Clear(); _outputs.AddRange(outputs); }

    Value NewValue(string name, ValueKind kind)
    {
        var v = new Value(_values.Count, name, kind);
        Register(v);
        return v;
    }

    void Register(Value v)
    {
        if (!_byName.TryAdd(v.Name, v))
            throw new InvalidOperationException($"Value name '{v.Name}' is used twice.");
        _values.Add(v);
    }

    /// <summary>Creates a plan that runs the graph for the given input shapes.</summary>
    public ExecutionPlan Plan(params int[][] inputShapes) => new(this, inputShapes);
}
