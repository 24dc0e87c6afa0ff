using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>One graph output compared between the native engine and ONNX Runtime.</summary>
public sealed record OutputParity(string Name, int[] Shape, double MaxAbs, double MaxRel, bool WithinTolerance);

/// <summary>The first value (in topological order) whose native result leaves tolerance.</summary>
public sealed record NodeDivergence(string Node, string OpType, string Value, double MaxAbs, double MaxRel);

/// <summary>What <see cref="Verifier.Verify"/> found.</summary>
public sealed record VerifyReport(
    string Model, int Batch, Tolerance Tolerance, IReadOnlyList<OutputParity> Outputs, NodeDivergence? FirstDivergentNode,
    int NodesCompared, double NativeMilliseconds, double OrtMilliseconds)
{
    public bool WithinTolerance => Outputs.All(o => o.WithinTolerance) && FirstDivergentNode == null;
    public double MaxAbs => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.MaxAbs);
    public double MaxRel => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.MaxRel);
}

/// <summary>Runs the same inputs through the native engine and ONNX Runtime and compares every output (and, optionally, every intermediate value).</summary>
public static class Verifier
{
    /// <summary>
    /// Seeded standard-normal inputs of the model's input shapes at the given batch. Dynamic axes after the batch take
    /// <paramref name="dynamicSize"/> (default <see cref="OnnxImporter.DynamicSizeAtImport"/>, the size the shapes were
    /// inferred at).
    /// </summary>
    public static Tensor[] RandomInputs(ImportedModel model, int batch, int seed, int? dynamicSize = null)
    {
        var rng = new Random(seed);
        int free = dynamicSize ?? OnnxImporter.DynamicSizeAtImport;
        if (free < 1) throw new ArgumentException($"The size of dynamic input axes must be positive, not {free}.");
        return model.Inputs.Select(info =>
        {
            var shape = info.Dims.Select((d, i) => i == 0 ? batch : d > 0 ? d : free).ToArray();
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

    public static VerifyReport Verify(ImportedModel model, IReadOnlyList<Tensor> inputs, bool perNode = false, Tolerance? tolerance = null)
    {
        var tol = tolerance ?? Tolerance.Import;
        RoundToModelPrecision(model, inputs);
        var graph = model.Graph;
        var plan = new ExecutionPlan(graph, inputs.Select(t => t.ShapeArray).ToArray(), keepAll: perNode);
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
            var c = a.Length == e.Length ? tol.Compare(a.Span, e.Span) : new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
            outputs.Add(new OutputParity(name, a.ShapeArray, c.MaxAbs, c.MaxRel, c.Within));
        }

        NodeDivergence? first = null;
        int compared = 0;
        if (perNode)
        {
            foreach (var (node, opType, outs) in model.OnnxNodes)
            {
                foreach (var name in outs)
                {
                    if (!expected.TryGetValue(name, out var e) || !model.ValuesByOnnxName.TryGetValue(name, out var v)) continue;
                    var a = plan.TensorOf(v);
                    if (a == null) continue;
                    compared++;
                    var c = a.Length == e.Length ? tol.Compare(a.Span, e.Span) : new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
                    if (!c.Within && first == null) first = new NodeDivergence(node, opType, name, c.MaxAbs, c.MaxRel);
                }
                if (first != null) break;
            }
        }
        return new VerifyReport(model.File, inputs[0].Dim(0), tol, outputs, first, compared, nativeMs, ortMs);
    }
}
