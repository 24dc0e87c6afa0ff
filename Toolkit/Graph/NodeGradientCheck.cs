using System.Diagnostics;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Per-node gradient check: which node's backward is wrong. Two checks per node on the backward path (between the loss
/// and a trainable parameter: nodes whose outputs do not reach the loss are left out), set up as <see cref="GradientCheck"/> sets up its whole-model check (training plan,
/// per-node training modes, held switches, measured loss noise, Richardson-extrapolated central differences):
/// <list type="bullet">
/// <item><b>Output</b>: the gradient dL/dy the backward pass delivers at the node's outputs against central differences
/// of the loss when those outputs alone move along a seeded direction (scaled to their RMS) and the forward pass
/// continues from them, everything else fixed.</item>
/// <item><b>Input</b>: the node's own op, alone: its backward given that dL/dy (dL/dx for every input that needs a
/// gradient, activation or trainable parameter; set or added as the training plan has it) against the directional
/// derivative of ⟨dL/dy, op(x + h·d)⟩, the op's switches held at x.</item>
/// </list>
/// A node whose output gradient is right but whose input gradient is wrong has a wrong backward; the last such node in
/// topological order (closest to the loss) is named. Nodes upstream of it then show wrong output gradients and right
/// input gradients (their backward is fed a wrong dL/dy but computes its product correctly).
/// </summary>
public static class NodeGradientCheck
{
    /// <summary>Directions per node output and per checked input when none are asked for (the median counts), as for parameters.</summary>
    public const int DefaultDirections = GradientCheck.DefaultDirections;

    /// <summary>
    /// The most directions per node: each output direction costs four forward passes of the whole model (SqueezeNet 1.1
    /// at batch 2: 66 nodes, about half a minute at 3 directions on 2 threads).
    /// </summary>
    public const int MaxDirections = 5;

    /// <summary>Runs the check (arguments as <see cref="GradientCheck.Run"/>; <see cref="GradientCheckOptions.Directions"/> per node, at most <see cref="MaxDirections"/>).</summary>
    public static NodeGradientCheckReport Run(ComputeGraph graph, IReadOnlyList<Tensor> inputs, int[] labels, GradientCheckOptions? options = null) =>
        // Ops also run alone here, outside a plan's pass: the whole check holds one thread count (Workers.Pinned).
        Threading.Workers.Pinned(() => RunPinned(graph, inputs, labels, options));

    static NodeGradientCheckReport RunPinned(ComputeGraph graph, IReadOnlyList<Tensor> inputs, int[] labels, GradientCheckOptions? options)
    {
        var o = options ?? new GradientCheckOptions();
        if (o.Directions < 1 || o.Directions > MaxDirections) throw new ArgumentException($"A per-node gradient check takes 1 to {MaxDirections} directions per node, not {o.Directions}.");
        var sw = Stopwatch.StartNew();
        var f = new GradientCheckLoss(graph, inputs, labels, o);
        var (plan, all, trainable, original) = (f.Plan, f.All, f.Trainable, f.Original);
        var ops = new Dictionary<Node, Op>();
        double Loss(Tensor? gradient = null, Action<Node, Tensor[]>? afterNode = null) => f.Evaluate(gradient, afterNode);

        try
        {
            var backward = plan.BackwardNodes;
            var onPath = backward.ToHashSet();
            bool NeedsGrad(Value v) => v.Kind == ValueKind.Parameter ? v.Parameter!.Trainable
                : v.Kind == ValueKind.Activation && v.Producer is { } p && onPath.Contains(p);

            // The values at θ of everything a backward node reads or writes, recorded during the analytic pass.
            var wanted = backward.SelectMany(n => n.Inputs.Concat(n.Outputs)).Select(v => v.Id).ToHashSet();
            var x0 = new Dictionary<int, Tensor>();
            for (int i = 0; i < inputs.Count; i++) if (wanted.Contains(graph.Inputs[i].Id)) x0[graph.Inputs[i].Id] = inputs[i].Clone();
            foreach (var p in all) { var v = graph.Values.First(u => u.Parameter == p); if (wanted.Contains(v.Id)) x0[v.Id] = p.Value.Clone(); }
            var dy = new Tensor(plan.Shapes[graph.Outputs[0].Id]);
            double loss = Loss(dy, (node, outs) =>
            {
                for (int i = 0; i < outs.Length; i++)
                    if (wanted.Contains(node.Outputs[i].Id)) x0[node.Outputs[i].Id] = outs[i].Clone();
            });
            double roundOff = GradientCheck.RoundOff * f.Sensitivity;
            f.FixState();
            foreach (var p in trainable) p.Grad?.Span.Clear();
            // The output gradients as the backward pass delivers them, each taken just before its producer's step.
            var dys = new Dictionary<int, Tensor>();
            plan.Backward([dy], beforeNode: node =>
            {
                foreach (var v in node.Outputs) if (plan.GradientOf(v) is { } g) dys[v.Id] = g.Clone();
            });
            var grads = trainable.ToDictionary(p => p, p => p.Grad!.Span.ToArray());

            var held = o.HoldSwitches ? backward.Where(n => HeldSwitchOp.Holds(n.Op)).ToList() : [];
            foreach (var n in held)
            {
                ops[n] = n.Op;
                n.Op = HeldSwitchOp.At(n.Op, x0[n.Inputs[0].Id]);
            }
            double noise = GradientCheck.MeasureLossNoise(trainable, original, grads, o.Seed, () => Loss());
            roundOff = Math.Max(roundOff, GradientCheck.NoiseSigmas * noise);

            // Which input gradients the plan has a node set rather than add to (Op.OverwritesInputGrad): those of an activation
            // whose last consumer (the first to run backward) is the node, read once, not a graph output.
            var lastConsumer = new Dictionary<int, Node>();
            foreach (var n in backward) foreach (var v in n.Inputs) if (v.Kind == ValueKind.Activation && NeedsGrad(v)) lastConsumer[v.Id] = n;
            var outputIds = graph.Outputs.Select(v => v.Id).ToHashSet();
            bool[] Fresh(Node node, Op op) => node.Inputs.Select((v, i) => v.Kind == ValueKind.Activation && NeedsGrad(v) && !outputIds.Contains(v.Id)
                && lastConsumer[v.Id] == node && node.Inputs.Count(u => u.Id == v.Id) == 1 && op.OverwritesInputGrad(i)).ToArray();

            // Nodes whose outputs reach the loss (a Softmax set aside for the logits is on the path from the parameters, not to the loss).
            var reaching = graph.Outputs.Select(v => v.Id).ToHashSet();
            var toLoss = new HashSet<Node>();
            for (int k = backward.Count - 1; k >= 0; k--)
            {
                var n = backward[k];
                if (!n.Outputs.Any(v => reaching.Contains(v.Id))) continue;
                toLoss.Add(n);
                foreach (var v in n.Inputs) reaching.Add(v.Id);
            }

            var rows = new List<NodeGradientRow>();
            foreach (var node in backward.Where(toLoss.Contains))
            {
                var op = ops.TryGetValue(node, out var inner) ? inner : node.Op;
                var output = node.Op.IsView ? null : CheckOutput(node, x0, dys, o, roundOff, (h, v) => Loss(afterNode: (n, outs) =>
                {
                    if (n != node) return;
                    for (int i = 0; i < outs.Length; i++)
                        if (v[i] is { } d) { var y0 = x0[n.Outputs[i].Id].Span; var y = outs[i].Span; for (int j = 0; j < y.Length; j++) y[j] = (float)(y0[j] + h * d[j]); }
                }));
                var inputChecks = CheckInputs(node, op, NeedsGrad, Fresh(node, op), x0, dys, plan.Shapes, o);
                rows.Add(new NodeGradientRow(node.Name, op.Type, node.Index, output, inputChecks));
                // The op-alone evaluations ran batch norm in training mode on its own: the running statistics go back.
                f.Restore();
            }
            var culprit = rows.LastOrDefault(r => r.Output is { Passed: true } && !r.InputsPassed);
            return new NodeGradientCheckReport(rows, culprit, loss, o.Tolerance, o.Epsilon, o.Directions, held.Count, f.Forwards, sw.Elapsed.TotalSeconds, noise);
        }
        finally
        {
            foreach (var (n, op) in ops) n.Op = op;
            f.Restore();
        }
    }

    /// <summary>
    /// dL/dy of a node's outputs against the loss's central differences with those outputs moved along seeded directions;
    /// <paramref name="loss"/>(h, v) evaluates the loss with output i set to y₀ + h·v[i]. Null when no output has a gradient.
    /// </summary>
    static NodeGradientCheckEntry? CheckOutput(Node node, Dictionary<int, Tensor> x0, Dictionary<int, Tensor> dys, GradientCheckOptions o,
        double roundOff, Func<double, double[]?[], double> loss)
    {
        int m = node.Outputs.Length;
        var y0 = new float[]?[m]; var g = new float[]?[m]; var s = new double[m];
        double expected = 0;
        for (int i = 0; i < m; i++)
        {
            var v = node.Outputs[i];
            if (!dys.TryGetValue(v.Id, out var gi) || !x0.TryGetValue(v.Id, out var yi)) continue;
            y0[i] = yi.Span.ToArray(); g[i] = gi.Span.ToArray(); s[i] = GradientCheck.Scale(y0[i]!);
            double norm = 0; foreach (var e in g[i]!) norm += (double)e * e;
            expected += norm * s[i] * s[i];
        }
        if (g.All(e => e == null)) return null;
        double floor = Math.Max(GradientCheck.FloorFraction * Math.Sqrt(expected), roundOff / (o.Epsilon * o.Tolerance));
        var dirs = new double[]?[m];
        (double, double) Central(double h)
        {
            // Analytic g·Δ along the float32 steps actually taken.
            double analytic = 0;
            for (int i = 0; i < m; i++)
            {
                if (dirs[i] is not { } d) continue;
                for (int j = 0; j < d.Length; j++)
                {
                    double y0j = y0[i]![j];
                    analytic += g[i]![j] * (((double)(float)(y0j + h * d[j]) - y0j) - ((double)(float)(y0j - h * d[j]) - y0j));
                }
            }
            double plus = loss(h, dirs), minus = loss(-h, dirs);
            return (analytic / (2 * h), (plus - minus) / (2 * h));
        }
        var results = new List<(double A, double N, double E)>();
        for (int k = 0; k < o.Directions; k++)
        {
            var rng = new Random(unchecked(o.Seed * 1_000_003 + node.Index * 7919 + k));
            for (int i = 0; i < m; i++)
                if (y0[i] is { } yi) { var d = new double[yi.Length]; for (int j = 0; j < d.Length; j++) d[j] = GradientCheck.Gaussian(rng) * s[i]; dirs[i] = d; }
            var (a1, n1) = Central(o.Epsilon);
            var (a2, n2) = Central(2 * o.Epsilon);
            double a = (4 * a1 - a2) / 3, n = (4 * n1 - n2) / 3;
            results.Add((a, n, GradientCheck.RelativeError(a, n, floor)));
        }
        return Median(results, floor, o.Tolerance, "output");
    }

    /// <summary>
    /// The node's op alone: its backward given the recorded dL/dy against the directional derivative of
    /// φ(x) = ⟨dL/dy, op(x)⟩ along seeded directions of each input that needs a gradient, the op's switches held at x₀.
    /// </summary>
    static List<NodeGradientCheckEntry> CheckInputs(Node node, Op op, Func<Value, bool> needsGrad, bool[] fresh, Dictionary<int, Tensor> x0,
        Dictionary<int, Tensor> dys, IReadOnlyList<int[]> shapes, GradientCheckOptions o)
    {
        var xs = node.Inputs.Select(v => x0[v.Id].Clone()).ToArray();
        var inShapes = xs.Select(t => t.ShapeArray).ToArray();
        var outShapes = node.Outputs.Select(v => shapes[v.Id]).ToArray();
        var workspace = new float[Math.Max(op.WorkspaceLength(inShapes), op.BackwardWorkspaceLength(inShapes))];
        bool training = o.Training?.Invoke(node) ?? false;
        var gy = node.Outputs.Select((v, i) => dys.TryGetValue(v.Id, out var g) ? g : new Tensor(outShapes[i])).ToArray();

        OpContext Context(Op f)
        {
            var ctx = new OpContext { Inputs = xs, Workspace = workspace, Training = training, Step = o.Step };
            ctx.Outputs = f.IsView ? [new Tensor(outShapes[0], xs[0].Data)] : outShapes.Select(s => new Tensor(s)).ToArray();
            return ctx;
        }
        // Backward as the training step runs it: forward first (batch statistics, masks), then the gradients added into
        // zeroed buffers, or set where the plan has the op set them (those buffers start as NaN: an element left unset fails).
        var ctx = Context(op);
        op.Forward(ctx);
        ctx.OutputGrads = gy;
        ctx.InputGrads = node.Inputs.Select((v, i) => needsGrad(v) ? new Tensor(inShapes[i]) : null).ToArray();
        for (int i = 0; i < fresh.Length; i++) if (fresh[i] && ctx.InputGrads[i] is { } t) t.Span.Fill(float.NaN);
        ctx.InputGradFresh = fresh;
        op.Backward(ctx);
        var gx = ctx.InputGrads;

        var f = HeldSwitchOp.Holds(op) ? HeldSwitchOp.At(op, xs[0]) : op;
        var fctx = Context(f);
        double Phi()
        {
            if (f.IsView) fctx.Outputs[0] = new Tensor(outShapes[0], xs[0].Data);
            f.Forward(fctx);
            double sum = 0;
            for (int i = 0; i < gy.Length; i++) { var y = fctx.Outputs[i].Span; var g = gy[i].Span; for (int j = 0; j < y.Length; j++) sum += (double)g[j] * y[j]; }
            return sum;
        }
        double RoundOff()
        {
            double sum = 0;
            for (int i = 0; i < gy.Length; i++) { var y = ctx.Outputs[i].Span; var g = gy[i].Span; for (int j = 0; j < y.Length; j++) sum += Math.Abs((double)g[j] * y[j]); }
            return GradientCheck.RoundOff * sum;
        }
        double baseRoundOff = RoundOff();

        var entries = new List<NodeGradientCheckEntry>();
        for (int i = 0; i < xs.Length; i++)
        {
            if (gx[i] is not { } gi) continue;
            var theta = xs[i].Span.ToArray();
            var w = xs[i].Data;
            var g = gi.Span.ToArray();
            double s = GradientCheck.Scale(theta);
            double gNorm = Math.Sqrt(g.Sum(e => (double)e * e));
            double noise = OpNoise(theta, w, s, node.Index * 31 + i, o.Seed, Phi);
            double roundOff = Math.Max(baseRoundOff, GradientCheck.NoiseSigmas * noise);
            double floor = Math.Max(GradientCheck.FloorFraction * gNorm * s, roundOff / (o.Epsilon * o.Tolerance));
            var v = new double[theta.Length];
            (double, double) Central(double h)
            {
                double analytic = 0;
                for (int j = 0; j < w.Length; j++) { w[j] = (float)(theta[j] + h * v[j]); analytic += g[j] * ((double)w[j] - theta[j]); }
                double plus = Phi();
                for (int j = 0; j < w.Length; j++) { w[j] = (float)(theta[j] - h * v[j]); analytic -= g[j] * ((double)w[j] - theta[j]); }
                double minus = Phi();
                theta.CopyTo(w, 0);
                return (analytic / (2 * h), (plus - minus) / (2 * h));
            }
            var results = new List<(double A, double N, double E)>();
            for (int k = 0; k < o.Directions; k++)
            {
                var rng = new Random(unchecked(o.Seed * 1_000_003 + node.Index * 7919 + 104_729 * (i + 1) + k));
                for (int j = 0; j < v.Length; j++) v[j] = GradientCheck.Gaussian(rng) * s;
                var (a1, n1) = Central(o.Epsilon);
                var (a2, n2) = Central(2 * o.Epsilon);
                double a = (4 * a1 - a2) / 3, n = (4 * n1 - n2) / 3;
                results.Add((a, n, GradientCheck.RelativeError(a, n, floor)));
            }
            entries.Add(Median(results, floor, o.Tolerance, node.Inputs[i].Name));
        }
        return entries;
    }

    /// <summary>
    /// The round-off of one evaluation of φ, from second differences r = φ(x + δ) + φ(x − δ) − 2φ(x) at
    /// <see cref="GradientCheck.NoiseStep"/> (curvature is nil there): σ = rms(r)/√6. It uses no gradient, so a wrong
    /// backward cannot widen the floor it sets.
    /// </summary>
    static double OpNoise(float[] theta, float[] w, double s, int stream, int seed, Func<double> phi)
    {
        double centre = phi(), sumSq = 0;
        var delta = new double[theta.Length];
        for (int k = 0; k < GradientCheck.NoiseProbes; k++)
        {
            var rng = new Random(unchecked(seed * 31 + 977 * (k + 1) + 15_485_863 * stream));
            for (int j = 0; j < delta.Length; j++) delta[j] = GradientCheck.Gaussian(rng) * s * GradientCheck.NoiseStep;
            for (int j = 0; j < w.Length; j++) w[j] = (float)(theta[j] + delta[j]);
            double plus = phi();
            for (int j = 0; j < w.Length; j++) w[j] = (float)(theta[j] - delta[j]);
            double minus = phi();
            theta.CopyTo(w, 0);
            double r = plus + minus - 2 * centre;
            sumSq += r * r;
        }
        return Math.Sqrt(sumSq / GradientCheck.NoiseProbes / 6);
    }

    static NodeGradientCheckEntry Median(List<(double A, double N, double E)> results, double floor, double tolerance, string what)
    {
        var ordered = results.OrderBy(r => r.E).ToList();
        var median = ordered[(ordered.Count - 1) / 2];
        return new NodeGradientCheckEntry(what, median.A, median.N, median.E, ordered[^1].E, floor, median.E <= tolerance);
    }
}

/// <summary>One gradient compared along its median direction: analytic and numeric directional derivatives per unit of ε.</summary>
/// <param name="Value">"output" for a node's output gradient, else the name of the input whose gradient this is.</param>
public sealed record NodeGradientCheckEntry(string Value, double Analytic, double Numeric, double RelativeError, double MaxRelativeError, double Floor, bool Passed);

/// <summary>A node on the backward path: its output gradient (null for a view, or without one) and its op's input gradients.</summary>
public sealed record NodeGradientRow(string Node, string OpType, int Index, NodeGradientCheckEntry? Output, IReadOnlyList<NodeGradientCheckEntry> Inputs)
{
    /// <summary>Whether every checked input gradient is within the tolerance.</summary>
    public bool InputsPassed => Inputs.All(e => e.Passed);
}

/// <summary>The result of <see cref="NodeGradientCheck.Run"/>.</summary>
/// <param name="Nodes">The backward path's nodes in topological order.</param>
/// <param name="FirstDivergentBackward">The last node (closest to the loss) whose output gradient is right and whose input gradient is wrong: its op's backward is the bug. Null when there is none.</param>
public sealed record NodeGradientCheckReport(
    IReadOnlyList<NodeGradientRow> Nodes, NodeGradientRow? FirstDivergentBackward, double Loss, double Tolerance, double Epsilon,
    int Directions, int HeldSwitches, int Forwards, double Seconds, double LossNoise)
{
    /// <summary>Whether every output and input gradient checked is within the tolerance.</summary>
    public bool Passed => Nodes.Count > 0 && Nodes.All(r => (r.Output?.Passed ?? true) && r.InputsPassed);
}
