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

    /// <summary>Total number of weight elements (constant operands not counted).</summary>
    public long ParameterCount => Parameters.Where(p => !p.IsConstant).Sum(p => (long)p.Value.Length);

    /// <summary>Total number of constant-operand elements (<see cref="Parameter.IsConstant"/>).</summary>
    public long ConstantCount => Parameters.Where(p => p.IsConstant).Sum(p => (long)p.Value.Length);

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

    /// <summary>Adds an existing parameter (shared with another graph, e.g. a subgraph of this one).</summary>
    public Value AddParameter(Parameter parameter)
    {
        var v = new Value(_values.Count, parameter.Name, ValueKind.Parameter) { Parameter = parameter };
        Register(v);
        return v;
    }

    /// <summary>
    /// A graph of the nodes with index in [<paramref name="from"/>, <paramref name="to"/>) sharing this graph's ops and
    /// parameters. Values read from outside the range become its inputs (in first-use order); its outputs are
    /// <paramref name="outputs"/> (values of this graph produced inside the range or entering it).
    /// </summary>
    public ComputeGraph Subgraph(int from, int to, IEnumerable<Value> outputs)
    {
        var sub = new ComputeGraph { Name = $"{Name}[{from}..{to})" };
        var map = new Dictionary<Value, Value>();
        Value Map(Value v)
        {
            if (map.TryGetValue(v, out var m)) return m;
            m = v.Kind == ValueKind.Parameter ? sub.AddParameter(v.Parameter!) : sub.AddInput(v.Name, v.Kind == ValueKind.Input ? v.DeclaredShape! : []);
            if (v.Kind != ValueKind.Input && m.Kind == ValueKind.Input) m.DeclaredShape = null;
            map[v] = m;
            return m;
        }
        foreach (var n in _nodes.Where(n => n.Index >= from && n.Index < to))
        {
            var ins = n.Inputs.Select(Map).ToArray();
            var node = sub.AddNode(n.Name, n.Op, ins, n.Outputs.Select(o => o.Name).ToArray());
            for (int i = 0; i < n.Outputs.Length; i++) map[n.Outputs[i]] = node.Outputs[i];
        }
        foreach (var o in outputs) sub.MarkOutput(Map(o));
        return sub;
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

    /// <summary>The shape of every value (indexed by <see cref="Value.Id"/>) when the inputs have these shapes, from the
    /// ops' shape rules alone (nothing is computed).</summary>
    /// <exception cref="Tensors.ShapeException">An op refuses the shapes it is given.</exception>
    public int[][] InferShapes(params int[][] inputShapes)
    {
        if (inputShapes.Length != Inputs.Count) throw new ArgumentException($"{inputShapes.Length} input shapes for {Inputs.Count} inputs.", nameof(inputShapes));
        return PlanOptimizer.InferShapes(this, inputShapes);
    }
}
