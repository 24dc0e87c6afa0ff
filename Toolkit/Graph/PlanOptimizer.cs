using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Plan-time rewrites for inference: each convolution with constant weights absorbs what follows it while the value in
/// between has no other reader — a batch normalization in inference mode (folded into the weights and bias, in double:
/// W′[m] = W[m]·γ/√(σ²+ε), B′[m] = (B[m] − μ)·γ/√(σ²+ε) + β), then any chain of elementwise activations
/// (<see cref="UnaryOp"/>: Relu, Clip, HardSwish, HardSigmoid, Sigmoid, …), Sigmoid·Mul written-out SiLU and
/// same-shape residual Adds — into one <see cref="FusedConvOp"/> whose epilogue runs those ops' own kernels; a channel
/// Concat whose inputs are such convolutions (or plain ones) read by nothing else becomes one <see cref="FusedConcatOp"/>
/// in which each writes its channel range of the Concat's output in place; a Dropout (the identity at inference) is
/// dropped, its readers reading its input. The
/// result is a new graph sharing the original's ops and parameters; every value that survives keeps its name (the
/// fused node's output is the last absorbed node's output), so the plain graph can check it value by value. Folded
/// weights are copies made now: rebuild the optimized graph after the weights change.
/// </summary>
public static class PlanOptimizer
{
    /// <param name="graph">The graph to rewrite (left unchanged).</param>
    /// <param name="inputShapes">Input shapes the plan is for (residual Adds are fused only when no broadcast happens).</param>
    /// <param name="inferenceOnly">Nodes that may be fused: they run in inference mode and need no gradient (default: all).</param>
    public static ComputeGraph Optimize(ComputeGraph graph, int[][] inputShapes, Func<Node, bool>? inferenceOnly = null) =>
        Optimize(graph, inputShapes, inferenceOnly, out _, out _);

    /// <summary>As above; also maps every surviving value and every node left as it was to its counterpart in the new graph.</summary>
    public static ComputeGraph Optimize(ComputeGraph graph, int[][] inputShapes, Func<Node, bool>? inferenceOnly,
        out IReadOnlyDictionary<Value, Value> values, out IReadOnlyDictionary<Node, Node> nodes)
    {
        var may = inferenceOnly ?? (_ => true);
        var shapes = InferShapes(graph, inputShapes);
        var readers = graph.Values.Select(_ => new List<Node>()).ToArray();
        foreach (var n in graph.Nodes) foreach (var v in n.Inputs.Distinct()) readers[v.Id].Add(n);
        var isOutput = new bool[graph.Values.Count];
        foreach (var v in graph.Outputs) isOutput[v.Id] = true;
        Node? SoleReader(Value v) => !isOutput[v.Id] && readers[v.Id].Count == 1 && may(readers[v.Id][0]) ? readers[v.Id][0] : null;
        static bool Constant(Value v) => v.Kind == ValueKind.Parameter;

        // Chains: the conv node, the batch norm folded into it (if any), the epilogue and the nodes absorbed.
        var chainOf = new Dictionary<Node, Chain>();
        foreach (var node in graph.Nodes)
        {
            if (node.Op is not ConvOp || !may(node) || !Constant(node.Inputs[1]) || (node.Inputs.Length > 2 && !Constant(node.Inputs[2]))) continue;
            var chain = new Chain(node);
            var cur = node.Outputs[0];
            if (SoleReader(cur) is { Op: BatchNormalizationOp } bn && bn.Inputs[0] == cur && bn.Inputs.Skip(1).All(Constant) && bn.Outputs.Length == 1)
            {
                chain.BatchNorm = bn; chain.Members.Add(bn); cur = bn.Outputs[0];
            }
            while (true)
            {
                if (SoleReader(cur) is { } next && next.Outputs.Length == 1 && !chainOf.ContainsKey(next))
                {
                    if (next.Op is UnaryOp u && next.Inputs[0] == cur)
                    {
                        chain.Steps.Add(new EpilogueStep(EpilogueKind.Activation, u));
                        chain.Members.Add(next); cur = next.Outputs[0]; continue;
                    }
                    if (next.Op is AddOp && next.Inputs.Length == 2 && next.Inputs[0] != next.Inputs[1])
                    {
                        var other = next.Inputs[0] == cur ? next.Inputs[1] : next.Inputs[0];
                        if (shapes[other.Id].AsSpan().SequenceEqual(shapes[cur.Id]) && shapes[next.Outputs[0].Id].AsSpan().SequenceEqual(shapes[cur.Id]))
                        {
                            chain.Steps.Add(new EpilogueStep(EpilogueKind.Residual));
                            chain.Residuals.Add(other);
                            chain.Members.Add(next); cur = next.Outputs[0]; continue;
                        }
                    }
                }
                // SiLU written out: cur read by exactly Sigmoid(cur) and Mul(cur, sigmoid) (either order).
                if (!isOutput[cur.Id] && readers[cur.Id].Count == 2 && readers[cur.Id].All(may))
                {
                    var sig = readers[cur.Id].FirstOrDefault(r => r.Op is SigmoidOp && r.Inputs[0] == cur);
                    var mul = readers[cur.Id].FirstOrDefault(r => r.Op is MulOp && r.Inputs.Length == 2 && !chainOf.ContainsKey(r));
                    if (sig != null && mul != null && SoleReader(sig.Outputs[0]) == mul
                        && ((mul.Inputs[0] == cur && mul.Inputs[1] == sig.Outputs[0]) || (mul.Inputs[1] == cur && mul.Inputs[0] == sig.Outputs[0])))
                    {
                        chain.Steps.Add(new EpilogueStep(EpilogueKind.Swish, (SigmoidOp)sig.Op));
                        chain.Members.Add(sig); chain.Members.Add(mul); cur = mul.Outputs[0]; continue;
                    }
                }
                break;
            }
            if (chain.Members.Count == 1) continue;
            chain.Output = cur;
            foreach (var m in chain.Members) chainOf[m] = chain;
        }

        // Channel Concats (fire modules, Inception blocks) whose inputs are convolutions read by nothing else: those
        // convolutions — fused chains without a residual, or plain ones — write their channel ranges of the Concat's
        // output in place (FusedConcatOp); other inputs are copied. Only kernels that can write strided outputs count.
        var concatParts = new Dictionary<Node, List<Chain?>>();
        var inConcat = new HashSet<Node>();
        foreach (var node in graph.Nodes)
        {
            if (node.Op is not ConcatOp cat || !may(node) || node.Outputs.Length != 1) continue;
            var outShape = shapes[node.Outputs[0].Id];
            if (outShape.Length != 4 || Shapes.NormalizeAxis(cat.Axis, outShape.Length) != 1) continue;
            var parts = new List<Chain?>();
            foreach (var v in node.Inputs)
            {
                Chain? part = null;
                if (v.Producer is { } p && node.Inputs.Count(u => u == v) == 1 && SoleReader(v) == node && !inConcat.Contains(p))
                {
                    if (chainOf.TryGetValue(p, out var chain)) part = chain.Output == v && chain.Residuals.Count == 0 ? chain : null;
                    else if (p.Op is ConvOp && may(p) && Constant(p.Inputs[1]) && (p.Inputs.Length < 3 || Constant(p.Inputs[2])) && p.Outputs.Length == 1)
                        part = new Chain(p) { Output = v };
                    if (part != null && !Kernels.Conv2D.WritesStrided(((ConvOp)part.Conv.Op).Geometry(shapes[part.Conv.Inputs[0].Id], shapes[part.Conv.Inputs[1].Id])))
                        part = null;
                }
                parts.Add(part);
            }
            if (parts.All(c => c == null)) continue;
            concatParts[node] = parts;
            foreach (var c in parts.OfType<Chain>()) foreach (var m in c.Members) inConcat.Add(m);
        }

        var opt = new ComputeGraph { Name = graph.Name };
        var map = new Dictionary<Value, Value>();
        var nodeMap = new Dictionary<Node, Node>();
        foreach (var v in graph.Inputs) map[v] = opt.AddInput(v.Name, v.DeclaredShape!);
        Value Map(Value v)
        {
            if (map.TryGetValue(v, out var m)) return m;
            if (v.Kind != ValueKind.Parameter) throw new InvalidOperationException($"Value '{v.Name}' is read before it is computed.");
            return map[v] = opt.AddParameter(v.Parameter!);
        }
        // A chain as one fused convolution: its op (batch norm folded) and inputs x, W, B and the residuals.
        (FusedConvOp Op, Value[] Inputs) FusedFor(Chain chain)
        {
            var conv = chain.Conv;
            var (w, b) = Fold(conv, chain.BatchNorm, shapes);
            return (new FusedConvOp((ConvOp)conv.Op, chain.Steps, chain.Members.Select(m => m.Name).ToArray()),
                [Map(conv.Inputs[0]), w == null ? Map(conv.Inputs[1]) : opt.AddParameter(w),
                 conv.Inputs.Length > 2 && b == conv.Inputs[2].Parameter ? Map(conv.Inputs[2]) : opt.AddParameter(b), .. chain.Residuals.Select(Map)]);
        }
        foreach (var node in graph.Nodes)
        {
            if (inConcat.Contains(node)) continue;   // computed by the FusedConcat of its Concat
            // Dropout at inference is the identity: its readers read its input (unless it is a graph output).
            if (node.Op is DropoutOp && may(node) && node.Outputs.Length == 1 && !isOutput[node.Outputs[0].Id])
            {
                map[node.Outputs[0]] = Map(node.Inputs[0]);
                continue;
            }
            if (concatParts.TryGetValue(node, out var parts))
            {
                var ops = new List<FusedConvOp?>();
                var inputs = new List<Value>();
                var names = new List<string> { node.Name };
                for (int i = 0; i < parts.Count; i++)
                {
                    if (parts[i] is not { } part) { ops.Add(null); inputs.Add(Map(node.Inputs[i])); continue; }
                    var (op, ins) = FusedFor(part);
                    ops.Add(op); inputs.AddRange(ins); names.AddRange(part.Members.Select(m => m.Name));
                }
                var concatNode = opt.AddNode(node.Name, new FusedConcatOp(ops, names), inputs.ToArray(), [node.Outputs[0].Name]);
                map[node.Outputs[0]] = concatNode.Outputs[0];
                continue;
            }
            if (!chainOf.TryGetValue(node, out var chain))
            {
                var copy = opt.AddNode(node.Name, node.Op, node.Inputs.Select(Map).ToArray(), node.Outputs.Select(o => o.Name).ToArray());
                for (int i = 0; i < node.Outputs.Length; i++) map[node.Outputs[i]] = copy.Outputs[i];
                nodeMap[node] = copy;
                continue;
            }
            if (node != chain.Members[^1]) continue;   // the fused node goes where its last member was
            var (fusedOp, fusedInputs) = FusedFor(chain);
            var fusedNode = opt.AddNode(chain.Conv.Name, fusedOp, fusedInputs, [chain.Output!.Name]);
            map[chain.Output] = fusedNode.Outputs[0];
        }
        opt.SetOutputs(graph.Outputs.Select(Map));
        values = map; nodes = nodeMap;
        return opt;
    }

    sealed class Chain(Node conv)
    {
        public Node Conv { get; } = conv;
        public Node? BatchNorm;
        public readonly List<Node> Members = [conv];
        public readonly List<EpilogueStep> Steps = [];
        public readonly List<Value> Residuals = [];
        public Value? Output;
    }

    /// <summary>
    /// The weights and bias the fused node reads: with a batch norm, new constant copies with it folded in (null
    /// weights and the original bias parameter when there is none; a zero bias when the conv had none).
    /// </summary>
    static (Parameter? W, Parameter B) Fold(Node conv, Node? bn, int[][] shapes)
    {
        var wv = conv.Inputs[1].Parameter!.Value;
        int m = wv.Dim(0), per = wv.Length / m;
        var bias = conv.Inputs.Length > 2 ? conv.Inputs[2].Parameter : null;
        if (bn == null)
            return (null, bias ?? new Parameter(conv.Name + "@zero_bias", new Tensor([m])) { IsConstant = true, Trainable = false });
        var op = (BatchNormalizationOp)bn.Op;
        var gamma = bn.Inputs[1].Parameter!.Value.Span; var beta = bn.Inputs[2].Parameter!.Value.Span;
        var mean = bn.Inputs[3].Parameter!.Value.Span; var variance = bn.Inputs[4].Parameter!.Value.Span;
        var w = new Tensor(wv.ShapeArray); var b = new Tensor([m]);
        var src = wv.Span; var dst = w.Span; var bd = b.Span;
        for (int o = 0; o < m; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + (double)op.Epsilon);
            for (int i = 0; i < per; i++) dst[o * per + i] = (float)(src[o * per + i] * scale);
            double b0 = bias == null ? 0 : bias.Value.Span[o];
            bd[o] = (float)((b0 - mean[o]) * scale + beta[o]);
        }
        return (new Parameter(conv.Name + "@folded_W", w) { IsConstant = true, Trainable = false },
                new Parameter(conv.Name + "@folded_B", b) { IsConstant = true, Trainable = false });
    }

    /// <summary>The shape of every value of <paramref name="graph"/> (by id) for these input shapes.</summary>
    internal static int[][] InferShapes(ComputeGraph graph, int[][] inputShapes)
    {
        var shapes = new int[graph.Values.Count][];
        for (int i = 0; i < inputShapes.Length; i++) shapes[graph.Inputs[i].Id] = inputShapes[i];
        foreach (var v in graph.Values) if (v.Kind == ValueKind.Parameter) shapes[v.Id] = v.Parameter!.Value.ShapeArray;
        foreach (var node in graph.Nodes)
        {
            var outs = node.Op.InferShapes(node.Inputs.Select(v => shapes[v.Id]).ToArray());
            for (int o = 0; o < outs.Length; o++) shapes[node.Outputs[o].Id] = outs[o];
        }
        return shapes;
    }
}
