using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>One graph output compared between the native engine and ONNX Runtime.</summary>
public sealed record OutputParity(string Name, int[] Shape, double MaxAbs, double MaxRel, bool WithinTolerance);

/// <summary>
/// A value of the per-node comparison: the first (in topological order) whose native result leaves its bound, or the
/// one closest to it. <paramref name="MaxAllowance"/> is the largest rounding allowance its elements got (0 for
/// elementwise nodes and for reductions within the plain rule); <paramref name="Ratio"/> the largest error over bound.
/// </summary>
public sealed record NodeDivergence(string Node, string OpType, string Value, double MaxAbs, double MaxRel, double MaxAllowance = 0, double Ratio = double.NaN);

/// <summary>What <see cref="Verifier.Verify"/> found.</summary>
/// <param name="WidenedNodes">Per node: values of reduction nodes outside the plain rule that the rounding allowance admitted.</param>
/// <param name="ClosestNode">Per node: the value whose error came closest to its bound (the largest ratio).</param>
public sealed record VerifyReport(
    string Model, int Batch, Tolerance Tolerance, IReadOnlyList<OutputParity> Outputs, NodeDivergence? FirstDivergentNode,
    int NodesCompared, double NativeMilliseconds, double OrtMilliseconds, IReadOnlyList<NodeDivergence>? WidenedNodes = null, NodeDivergence? ClosestNode = null)
{
    /// <summary>How many values needed the rounding allowance (<see cref="WidenedNodes"/>).</summary>
    public int Widened => WidenedNodes?.Count ?? 0;

    public bool WithinTolerance => Outputs.All(o => o.WithinTolerance) && FirstDivergentNode == null;
    public double MaxAbs => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.MaxAbs);
    public double MaxRel => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.MaxRel);
}

/// <summary>Runs the same inputs through the native engine and ONNX Runtime and compares every output (and, optionally, every intermediate value).</summary>
public static class Verifier
{
    /// <summary>
    /// The most memory a verification may plan (<see cref="PlannedBytes"/>); a larger batch is refused before anything
    /// is allocated.
    /// </summary>
    public const long MemoryBudgetBytes = 2L << 30;

    /// <summary>
    /// The input shapes a verification at <paramref name="batch"/> feeds: the declared dimensions with the first one
    /// set to the batch and dynamic ones after it set to <paramref name="dynamicSize"/> (default
    /// <see cref="OnnxImporter.DynamicSizeAtImport"/>, the size the shapes were inferred at). A scalar input has no batch
    /// axis: only batch 1 fits it.
    /// </summary>
    public static int[][] InputShapes(ImportedModel model, int batch, int? dynamicSize = null)
    {
        int free = dynamicSize ?? OnnxImporter.DynamicSizeAtImport;
        if (free < 1) throw new ArgumentException($"The size of dynamic input axes must be positive, not {free}.");
        return model.Inputs.Select(info =>
        {
            if (info.Dims.Length == 0 && batch != 1)
                throw new ArgumentException($"--batch {batch}: input '{info.Name}' of {model.File} is a scalar, which has no batch axis; only batch 1 fits it.");
            return info.Dims.Select((d, i) => i == 0 ? batch : d > 0 ? d : free).ToArray();
        }).ToArray();
    }

    /// <summary>
    /// Bytes a verification with these input shapes plans at most, from shape inference alone, once for the native run
    /// and once for ONNX Runtime, as float32. With <paramref name="perNode"/> (as <c>--per-node</c> runs) every value is
    /// kept: the inputs and every node output count. Without it both sides reuse memory: a value lives from the node
    /// that makes it to its last reader (graph outputs to the end), and the most that is alive at once counts. A shape
    /// that overflows counts as <see cref="long.MaxValue"/>.
    /// </summary>
    public static long PlannedBytes(ImportedModel model, int[][] inputShapes, bool perNode = true)
    {
        var graph = model.Graph;
        var shapes = new int[graph.Values.Count][];
        for (int i = 0; i < inputShapes.Length && i < graph.Inputs.Count; i++) shapes[graph.Inputs[i].Id] = inputShapes[i];
        foreach (var v in graph.Values)
            if (v.Kind == ValueKind.Parameter) shapes[v.Id] = v.Parameter!.Value.ShapeArray;
        try
        {
            checked
            {
                long inputs = inputShapes.Sum(s => Shapes.ElementCount(s));
                long all = inputs;
                foreach (var node in graph.Nodes)
                {
                    var outs = node.Op.InferShapes(node.Inputs.Select(v => shapes[v.Id]).ToArray());
                    for (int o = 0; o < node.Outputs.Length; o++)
                    {
                        shapes[node.Outputs[o].Id] = outs[o];
                        all += Shapes.ElementCount(outs[o]);
                    }
                }
                if (perNode) return all * sizeof(float) * 2;
                var lastUse = new int[graph.Values.Count];
                Array.Fill(lastUse, -1);
                foreach (var node in graph.Nodes)
                    foreach (var v in node.Inputs) lastUse[v.Id] = Math.Max(lastUse[v.Id], node.Index);
                foreach (var v in graph.Outputs) lastUse[v.Id] = int.MaxValue;
                long live = inputs, peak = inputs;
                foreach (var node in graph.Nodes)
                {
                    foreach (var o in node.Outputs) live += Shapes.ElementCount(shapes[o.Id]);
                    peak = Math.Max(peak, live);
                    foreach (var v in node.Inputs.Concat(node.Outputs).Distinct())
                        if (v.Kind == ValueKind.Activation && lastUse[v.Id] <= node.Index) live -= Shapes.ElementCount(shapes[v.Id]);
                }
                return peak * sizeof(float) * 2;
            }
        }
        catch (Exception e) when (e is OverflowException or ShapeException) { return long.MaxValue; }
    }

    /// <summary>
    /// Seeded standard-normal inputs of <see cref="InputShapes"/> at the given batch; dynamic axes after the batch take
    /// <paramref name="dynamicSize"/>.
    /// </summary>
    public static Tensor[] RandomInputs(ImportedModel model, int batch, int seed, int? dynamicSize = null)
    {
        var rng = new Random(seed);
        return InputShapes(model, batch, dynamicSize).Select(shape =>
        {
            var t = new Tensor(shape);
            var s = t.Span;
            for (int i = 0; i < s.Length; i++)
            {
                // Box–Muller.
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                s[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            return t;
        }).ToArray();
    }

    /// <summary>Rounds inputs to the precision ONNX Runtime will be fed (float16 models), so both sides see the same numbers.</summary>
    public static void RoundToModelPrecision(ImportedModel model, IReadOnlyList<Tensor> inputs)
    {
        for (int i = 0; i < inputs.Count; i++)
            if (model.Inputs[i].ElementType == OnnxDataType.Float16)
            {
                var s = inputs[i].Span;
                for (int k = 0; k < s.Length; k++) s[k] = (float)(Half)s[k];
            }
    }

    /// <summary>
    /// Runs <paramref name="inputs"/> natively and in ONNX Runtime and compares the outputs under
    /// <paramref name="tolerance"/> (default <see cref="Tolerance.Import"/>). With <paramref name="perNode"/>, also
    /// every intermediate value ONNX Runtime exposes, each node isolated: every native node is evaluated on ONNX
    /// Runtime's values of its inputs (parameters and graph inputs as they are), so a value's error is the node's own
    /// and never an upstream node's, carried along. Elementwise nodes keep the plain rule; a reduction node's element
    /// that leaves it is also allowed its float32 round-off (<see cref="RoundingAllowance"/>).
    /// </summary>
    public static VerifyReport Verify(ImportedModel model, IReadOnlyList<Tensor> inputs, bool perNode = false, Tolerance? tolerance = null)
    {
        var tol = tolerance ?? Tolerance.Import;
        RoundToModelPrecision(model, inputs);
        var graph = model.Graph;
        // The optimized plan (what inference runs) for outputs; per node, the plain one, whose every value ONNX Runtime also exposes.
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var plan = perNode ? new ExecutionPlan(graph, shapes) : new ExecutionPlan(PlanOptimizer.Optimize(graph, shapes), shapes);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var native = plan.Run(inputs).Select(t => t.Clone()).ToArray();
        double nativeMs = sw.Elapsed.TotalMilliseconds;

        // Intermediate values that exist in both: node outputs that are runtime activations.
        var intermediates = perNode
            ? model.OnnxNodes.SelectMany(n => n.Outputs).Where(o => model.ValuesByOnnxName.TryGetValue(o, out var v) && v.Kind == ValueKind.Activation).Distinct().ToList()
            : null;
        using var ort = new OrtReference(model, intermediates);
        sw.Restart();
        var expected = ort.Run(inputs);
        double ortMs = sw.Elapsed.TotalMilliseconds;

        var outputs = new List<OutputParity>();
        for (int o = 0; o < model.Outputs.Count; o++)
        {
            var name = model.Outputs[o].Name;
            var e = expected[name];
            var a = native[o];
            // Same values in another shape (a batch taken for a leading 1) are a difference too.
            var c = a.Shape.SequenceEqual(e.Shape) ? tol.Compare(a.Span, e.Span) : new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
            outputs.Add(new OutputParity(name, a.ShapeArray, c.MaxAbs, c.MaxRel, c.Within));
        }

        NodeDivergence? first = null, closest = null;
        int compared = 0;
        var widened = new List<NodeDivergence>();
        if (perNode)
        {
            var byValue = CompareIsolated(model, inputs, expected, tol);
            foreach (var (node, opType, outs) in model.OnnxNodes)
            {
                foreach (var name in outs)
                {
                    if (!byValue.TryGetValue(name, out var r)) continue;
                    compared++;
                    var d = new NodeDivergence(node, opType, name, r.C.MaxAbs, r.C.MaxRel, r.MaxAllowance, r.C.MaxRatio);
                    if (r.Widened) widened.Add(d);
                    if (closest == null || !(d.Ratio <= closest.Ratio)) closest = d;
                    if (!r.C.Within && first == null) first = d;
                }
            }
        }
        return new VerifyReport(model.File, inputs[0].Rank > 0 ? inputs[0].Dim(0) : 1, tol, outputs, first, compared, nativeMs, ortMs, widened, closest);
    }

    /// <summary>One intermediate value compared: the comparison, the largest allowance given and whether it was needed.</summary>
    readonly record struct ValueComparison(Comparison C, double MaxAllowance, bool Widened);

    /// <summary>
    /// Evaluates every native node on ONNX Runtime's values of its inputs (where ONNX Runtime has them; values internal
    /// to a decomposed ONNX node come from this same evaluation) and compares each output ONNX Runtime exposes, by
    /// ONNX name. A reduction's output outside the plain rule is compared again with the rounding allowance.
    /// </summary>
    static Dictionary<string, ValueComparison> CompareIsolated(ImportedModel model, IReadOnlyList<Tensor> inputs, Dictionary<string, Tensor> expected, Tolerance tol)
    {
        var graph = model.Graph;
        // ONNX Runtime's tensor of each activation, and the ONNX names each activation is compared under.
        var ortOf = new Tensor?[graph.Values.Count];
        var names = new List<string>?[graph.Values.Count];
        foreach (var (name, v) in model.ValuesByOnnxName)
        {
            if (v.Kind != ValueKind.Activation || !expected.TryGetValue(name, out var e)) continue;
            ortOf[v.Id] ??= e;
            (names[v.Id] ??= []).Add(name);
        }
        var own = new Tensor?[graph.Values.Count];
        for (int i = 0; i < graph.Inputs.Count && i < inputs.Count; i++) own[graph.Inputs[i].Id] = inputs[i];
        Tensor Of(Value v) => v.Kind == ValueKind.Parameter ? v.Parameter!.Value
            : ortOf[v.Id] ?? own[v.Id] ?? throw new InvalidOperationException($"Value '{v.Name}' has no tensor for the per-node comparison.");

        var results = new Dictionary<string, ValueComparison>();
        // ONNX Runtime computes a float16 model's values in float16 (OrtReference exposes them so): its round-off is float16's.
        double unit = model.Outputs.Count > 0 && model.Outputs[0].ElementType == OnnxDataType.Float16 ? RoundingAllowance.HalfUnitRoundoff : RoundingAllowance.UnitRoundoff;
        float[] workspace = [];
        foreach (var node in graph.Nodes)
        {
            var ins = node.Inputs.Select(Of).ToArray();
            var inShapes = ins.Select(t => t.ShapeArray).ToArray();
            var outShapes = node.Op.InferShapes(inShapes);
            var outs = node.Op.IsView
                ? [new Tensor(outShapes[0], ins[0].Data)]
                : outShapes.Select(s => new Tensor(s)).ToArray();
            long need = node.Op.WorkspaceLength(inShapes);
            if (workspace.Length < need) workspace = new float[need];
            node.Op.Forward(new OpContext { Inputs = ins, Outputs = outs, Workspace = workspace });
            for (int o = 0; o < outs.Length; o++)
            {
                var v = node.Outputs[o];
                if (names[v.Id] is not { } onnxNames) { own[v.Id] = outs[o]; continue; }
                float[]? allowance = null;
                foreach (var name in onnxNames)
                {
                    var e = expected[name];
                    var a = outs[o];
                    if (a.Length != e.Length) { results[name] = new(new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1), 0, false); continue; }
                    var c = tol.Compare(a.Span, e.Span);
                    if (c.Within || o != 0 || !RoundingAllowance.Applies(node.Op)) { results[name] = new(c, 0, false); continue; }
                    allowance ??= RoundingAllowance.Compute(node.Op, ins, outShapes[0], unit);
                    var w = tol.Compare(a.Span, e.Span, allowance);
                    results[name] = new(w, System.Numerics.Tensors.TensorPrimitives.Max<float>(allowance), w.Within);
                }
            }
        }
        return results;
    }
}
