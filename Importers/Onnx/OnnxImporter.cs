using Google.Protobuf;
using Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// Turns an ONNX file into a <see cref="ComputeGraph"/>. Constant subgraphs are folded at import, so the runtime
/// graph holds only real work; every float constant that feeds a runtime op becomes a named parameter.
/// </summary>
public static class OnnxImporter
{
    public const int MinOpset = 7;
    public const int MaxOpset = 21;

    /// <summary>
    /// The size a dynamic non-batch input axis (a free H or W) takes while the graph's shapes are inferred at import; at
    /// run time the plan uses the real size. Large enough for the strides of an image CNN (224 = 7·32), so the
    /// feature maps an FPN adds together agree.
    /// </summary>
    public const int DynamicSizeAtImport = 224;
    public const long MinIrVersion = 3;

    /// <summary>Imports a model file.</summary>
    public static ImportedModel Import(string path) => Import(path, ImportLimits.FromEnvironment());

    /// <summary>Imports a model file within <paramref name="limits"/> (node count, memory of constants).</summary>
    public static ImportedModel Import(string path, ImportLimits limits)
    {
        if (!System.IO.File.Exists(path)) throw new OnnxImportException(path, null, "file not found.");
        ModelProto model;
        try
        {
            using var stream = System.IO.File.OpenRead(path);
            if (stream.Length == 0) throw new OnnxImportException(path, null, "the file is empty.");
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException(path, null, $"not a valid ONNX protobuf file (truncated or another format): {e.Message}", e);
        }
        return Import(model, path, limits);
    }

    /// <summary>Imports an already-parsed model; <paramref name="path"/> names it in errors and locates external data.</summary>
    public static ImportedModel Import(ModelProto model, string path) => Import(model, path, ImportLimits.FromEnvironment());

    /// <inheritdoc cref="Import(ModelProto, string)"/>
    public static ImportedModel Import(ModelProto model, string path, ImportLimits limits)
    {
        if (model.Graph == null || (model.Graph.Node.Count == 0 && model.Graph.Output.Count == 0))
            throw new OnnxImportException(path, null, "the file holds no graph (not an ONNX model, or truncated).");
        if (model.IrVersion < MinIrVersion)
            throw new OnnxImportException(path, null, $"IR version {model.IrVersion} is not supported (version {MinIrVersion} and later are).");
        var opsetEntry = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opsetEntry == null)
            throw new OnnxImportException(path, null, "the model imports no default-domain (ai.onnx) opset.");
        int opset = (int)opsetEntry.Version;
        if (opset < MinOpset || opset > MaxOpset)
            throw new OnnxImportException(path, null, $"default-domain opset {opset} is not supported (opsets {MinOpset}–{MaxOpset} are).");
        if (model.Graph.Node.Count > limits.MaxNodes)
            throw new OnnxImportException(path, null, $"the graph has {model.Graph.Node.Count:N0} nodes, more than the limit of {limits.MaxNodes:N0} "
                + $"(ImportLimits.MaxNodes; raise it with --max-nodes or {ImportLimits.MaxNodesVariable}).");
        var state = new State(path, model, opset, limits);
        return state.Run();
    }

    /// <summary>One value during import: a constant, or a runtime value with its import-time shape.</summary>
    internal sealed class Entry
    {
        public ConstTensor? Const;
        public Value? Value;
        public int[] Shape = [];
        public bool BatchLeading;
    }

    internal sealed class State(string file, ModelProto model, int opset, ImportLimits limits)
    {
        public string File { get; } = file;
        public ImportLimits Limits { get; } = limits;
        long _initializerBytes;

        /// <summary>
        /// Refuses a constant of <paramref name="elements"/> elements above the memory budget before it is allocated
        /// (with <paramref name="initializer"/>, also when all initializers together would exceed it).
        /// </summary>
        public void CheckConstant(long elements, string what, string? node, bool initializer = false)
        {
            double bytes = (double)elements * ImportLimits.BytesPerConstantElement;
            double total = initializer ? _initializerBytes + bytes : bytes;
            if (total > Limits.MemoryBudgetBytes)
                throw new OnnxImportException(File, node, $"{what} is {elements:N0} elements ({ImportLimits.Format(bytes)} as import holds them)"
                    + (initializer && _initializerBytes > 0 ? $", {ImportLimits.Format(total)} with the initializers before it" : "")
                    + $", above the import memory budget of {ImportLimits.Format(Limits.MemoryBudgetBytes)} "
                    + $"(ImportLimits.MemoryBudgetBytes; raise it with --import-budget-mb or {ImportLimits.BudgetVariable}).");
            if (initializer) _initializerBytes += (long)bytes;
        }
        readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
        readonly ComputeGraph _graph = new() { Name = string.IsNullOrEmpty(model.Graph.Name) ? Path.GetFileNameWithoutExtension(file) : model.Graph.Name };
        readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
        readonly Dictionary<string, Value> _byOnnxName = new(StringComparer.Ordinal);
        public int ImportBatch { get; private set; } = 1;

        public Entry Entry(string name, OnnxNodeContext ctx) =>
            _entries.TryGetValue(name, out var e) ? e : throw ctx.Error($"input '{name}' is not produced by any node, initializer or graph input.");

        public void SetConst(string name, ConstTensor value) => _entries[name] = new Entry { Const = value, Shape = value.Dims };

        public void Alias(string output, string input, OnnxNodeContext ctx)
        {
            var e = Entry(input, ctx);
            _entries[output] = e;
            if (e.Value != null) _byOnnxName[output] = e.Value;
        }

        public string UniqueNodeName(string name)
        {
            var n = name;
            for (int i = 1; !_nodeNames.Add(n); i++) n = $"{name}_{i}";
            return n;
        }

        /// <summary>The graph value of a constant input: a weight, or a constant when no op reads it in a weight slot.</summary>
        Value ParameterFor(string name, ConstTensor c, bool weight)
        {
            var existing = _graph.Find(name);
            if (existing != null)
            {
                if (weight && existing.Parameter is { IsConstant: true } p) p.IsConstant = false;
                return existing;
            }
            var v = _graph.AddParameter(name, c.ToTensor());
            v.Parameter!.IsConstant = !weight;
            _byOnnxName[name] = v;
            return v;
        }

        public void Emit(OnnxNodeContext ctx, Op op, string[] inputNames, string[] outputNames, string nodeName)
        {
            var entries = inputNames.Select(n => Entry(n, ctx)).ToArray();
            var shapes = entries.Select(e => e.Shape).ToArray();
            int[][] outShapes;
            try
            {
                outShapes = op.InferShapes(shapes);
                foreach (var s in outShapes) Shapes.ElementCount(s);
            }
            catch (ShapeException e)
            {
                throw ctx.Error($"inputs {string.Join(" ", shapes.Select(s => Shapes.Format(s)))}: {e.Message}");
            }

            if (entries.All(e => e.Const != null))
            {
                // Constant folding: run the op now on the constant inputs (within the budget).
                CheckConstant(outShapes.Sum(s => Shapes.ElementCount(s)), $"the folded constant {string.Join(" ", outShapes.Select(s => Shapes.Format(s)))} of {op.Type}", ctx.Name);
                foreach (var e in entries)
                    if (!e.Const!.IsFloat) throw ctx.Error($"{op.Type} on a constant of type {e.Const.Type} is not supported.");
                var inputs = entries.Select(e => e.Const!.ToTensor()).ToArray();
                var outputs = outShapes.Select(s => new Tensor(s)).ToArray();
                var ws = new float[op.WorkspaceLength(shapes)];
                var opCtx = new OpContext { Inputs = inputs, Outputs = outputs, Workspace = ws };
                op.Forward(opCtx);
                if (op.IsView) outputs[0] = inputs[0].Reshaped(outShapes[0]);
                for (int o = 0; o < outputNames.Length; o++) SetConst(outputNames[o], ConstTensor.FromTensor(outputs[o]));
                return;
            }

            var values = new Value[entries.Length];
            for (int i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                if (e.Const != null)
                {
                    if (!e.Const.IsFloat)
                        throw ctx.Error($"input '{inputNames[i]}' is a {e.Const.Type} constant where a float tensor is expected.");
                    values[i] = ParameterFor(inputNames[i], e.Const, WeightSlots.IsWeight(op, i, e.Shape));
                }
                else values[i] = e.Value!;
            }
            var node = _graph.AddNode(UniqueNodeName(nodeName), op, values, outputNames.Take(outShapes.Length).ToArray());
            bool batch = entries.FirstOrDefault(e => e.Value != null)?.BatchLeading ?? false;
            bool dataBatch = entries[0].Value != null && entries[0].BatchLeading;
            batch = op switch
            {
                TransposeOp t => batch && t.PermFor(shapes[0].Length)[0] == 0,
                ReshapeOp r => batch && r.Target.Length > 0 && r.Target[0].CopyFrom == 0,
                GatherOp g => batch && Shapes.NormalizeAxis(g.Axis, shapes[0].Length) != 0,
                SliceOp s => batch && s.Axes.All(a => a != 0 && a != -shapes[0].Length),
                // Axis 0 follows the batch when the target copies it from the shape source, or keeps the data's batch axis.
                ExpandOp e => outShapes[0].Length > 0 && (e.Shape.Length == outShapes[0].Length && e.Shape[0].CopyFrom == 0
                    || dataBatch && shapes[0].Length == outShapes[0].Length && (e.Shape.Length < outShapes[0].Length || e.Shape[0] is { CopyFrom: < 0, Fixed: 1 })),
                TileOp t => outShapes[0].Length > 0 && (t.Repeats[0].CopyFrom == 0 && shapes[0][0] == 1 || dataBatch && t.Repeats[0] is { CopyFrom: < 0, Fixed: 1 }),
                _ => batch,
            };
            for (int o = 0; o < node.Outputs.Length; o++)
            {
                _entries[outputNames[o]] = new Entry { Value = node.Outputs[o], Shape = outShapes[o], BatchLeading = batch };
                _byOnnxName[outputNames[o]] = node.Outputs[o];
            }
        }

        public ImportedModel Run()
        {
            var g = model.Graph;
            // Initializers first: old-IR graphs also list them among the inputs; those are weights, not inputs.
            foreach (var init in g.Initializer)
            {
                if (string.IsNullOrEmpty(init.Name)) throw new OnnxImportException(File, null, "an initializer has no name.");
                SetConst(init.Name, TensorProtoReader.Read(init, File, null,
                    elements => CheckConstant(elements, $"initializer '{init.Name}' [{string.Join(",", init.Dims)}]", null, initializer: true)));
            }
            foreach (var sparse in g.SparseInitializer)
                throw new OnnxImportException(File, null, $"sparse initializer '{sparse.Values?.Name}' is not supported.");

            var inputs = new List<ModelTensorInfo>();
            foreach (var vi in g.Input)
            {
                if (_entries.ContainsKey(vi.Name)) continue;
                if (vi.Type?.TensorType == null)
                    throw new OnnxImportException(File, null, $"graph input '{vi.Name}' is not a tensor (sequence, map and optional inputs are not supported).");
                var info = Describe(vi);
                if (info.ElementType is not (OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double))
                    throw new OnnxImportException(File, null, $"graph input '{vi.Name}' has element type {info.ElementType}; only float inputs are supported.");
                if (inputs.Count == 0 && info.Dims.Length > 0 && info.Dims[0] > 0) ImportBatch = info.Dims[0];
                var staticShape = info.Dims.Select((d, i) => d >= 0 ? d : i == 0 ? ImportBatch : DynamicSizeAtImport).ToArray();
                var v = _graph.AddInput(vi.Name, info.Dims.Select((d, i) => i == 0 ? -1 : d).ToArray());
                _entries[vi.Name] = new Entry { Value = v, Shape = staticShape, BatchLeading = staticShape.Length > 0 };
                _byOnnxName[vi.Name] = v;
                inputs.Add(info);
            }

            var order = TopologicalOrder(g);
            var onnxNodes = new List<(string, string, string[])>();
            for (int idx = 0; idx < order.Count; idx++)
            {
                var (node, position) = order[idx];
                var name = UniqueNodeName(string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{position}" : node.Name);
                _nodeNames.Remove(name); // reserved again by Emit
                onnxNodes.Add((name, node.OpType, node.Output.ToArray()));
                if (node.Domain is not ("" or "ai.onnx"))
                    throw new OnnxImportException(File, name, $"op '{node.OpType}' is in domain '{node.Domain}', which is not supported (only the default ai.onnx domain is).");
                var ctx = new OnnxNodeContext(this, node, name, opset);
                var converter = OnnxOpRegistry.Find(node.OpType)
                    ?? throw new OnnxImportException(File, name, $"op '{node.OpType}' (domain ai.onnx, opset {opset}) is not supported.");
                if (opset < converter.MinOpset || opset > converter.MaxOpset)
                    throw new OnnxImportException(File, name, $"op '{node.OpType}' at opset {opset} is not supported (opsets {converter.MinOpset}–{converter.MaxOpset} are).");
                try { converter.Import(ctx); }
                catch (OnnxImportException) { throw; }
                catch (Exception e) when (e is ShapeException or ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException or FormatException)
                {
                    throw new OnnxImportException(File, name, $"{node.OpType} (opset {opset}): {e.Message}", e);
                }
            }

            var outputs = new List<ModelTensorInfo>();
            foreach (var vo in g.Output)
            {
                if (!_entries.TryGetValue(vo.Name, out var e))
                    throw new OnnxImportException(File, null, $"graph output '{vo.Name}' is not produced by any node.");
                var value = e.Value ?? ParameterFor(vo.Name, e.Const!, weight: false);
                _graph.MarkOutput(value);
                outputs.Add(Describe(vo));
            }

            return new ImportedModel
            {
                File = File, Graph = _graph, Proto = model, Opset = opset, Inputs = inputs, Outputs = outputs,
                ValuesByOnnxName = _byOnnxName, OnnxNodes = onnxNodes,
            };
        }

        ModelTensorInfo Describe(ValueInfoProto vi)
        {
            var tt = vi.Type?.TensorType;
            if (tt == null) return new ModelTensorInfo(vi.Name, OnnxDataType.Undefined, []);
            var dims = tt.Shape?.Dim.Select(d => d.HasDimValue && d.DimValue >= 0 && d.DimValue <= int.MaxValue ? (int)d.DimValue : -1).ToArray() ?? [];
            return new ModelTensorInfo(vi.Name, (OnnxDataType)tt.ElemType, dims);
        }

        /// <summary>Nodes in an order where every input is produced first (Kahn); reports missing inputs and cycles.</summary>
        List<(NodeProto Node, int Position)> TopologicalOrder(GraphProto g)
        {
            var producer = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < g.Node.Count; i++)
                foreach (var o in g.Node[i].Output)
                    if (o.Length > 0 && !producer.TryAdd(o, i))
                        throw new OnnxImportException(File, NodeLabel(g.Node[i], i), $"output '{o}' is also produced by another node.");
            var pending = new int[g.Node.Count];
            var consumers = new List<int>[g.Node.Count];
            for (int i = 0; i < g.Node.Count; i++) consumers[i] = [];
            for (int i = 0; i < g.Node.Count; i++)
            {
                foreach (var input in g.Node[i].Input)
                {
                    if (input.Length == 0 || _entries.ContainsKey(input)) continue;
                    if (!producer.TryGetValue(input, out var p))
                        throw new OnnxImportException(File, NodeLabel(g.Node[i], i), $"input '{input}' is not produced by any node, initializer or graph input.");
                    pending[i]++;
                    consumers[p].Add(i);
                }
            }
            var ready = new SortedSet<int>(Enumerable.Range(0, g.Node.Count).Where(i => pending[i] == 0));
            var order = new List<(NodeProto, int)>();
            while (ready.Count > 0)
            {
                int i = ready.Min; ready.Remove(i);
                order.Add((g.Node[i], i));
                foreach (var c in consumers[i])
                    if (--pending[c] == 0) ready.Add(c);
            }
            if (order.Count != g.Node.Count)
            {
                int stuck = Enumerable.Range(0, g.Node.Count).First(i => pending[i] > 0);
                throw new OnnxImportException(File, NodeLabel(g.Node[stuck], stuck), "the graph has a cycle through this node.");
            }
            return order;
        }

        static string NodeLabel(NodeProto n, int i) => string.IsNullOrEmpty(n.Name) ? $"{n.OpType}_{i}" : n.Name;
    }
}
