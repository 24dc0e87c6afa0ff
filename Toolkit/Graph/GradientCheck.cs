using System.Diagnostics;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// Whole-graph gradient check: the parameter gradients a <see cref="TrainingPlan"/> computes (loss on the logits,
/// backward only through the nodes between the loss and the trainable parameters, per-node training modes as the
/// trainer sets them) against central differences of the same loss.
/// <para>
/// The engine runs in float32, so single elements make a poor probe: their derivatives are often tiny next to the
/// round-off of a forward pass. Each checked tensor θ is instead moved along seeded Gaussian directions v scaled to its
/// root-mean-square value s, by ±ε·s·v and ±2ε·s·v, and the two central differences are combined by Richardson
/// extrapolation so the ε² term cancels. The loss is accumulated in double; the steps actually taken are the float32
/// differences (θ ± h) − θ, so rounding of the perturbed weights does not count as error. Analytic g·Δ and numeric ΔL
/// are compared with |a − n| / max(|a|, |n|, floor); the floor is what the loss's own round-off makes of a central
/// difference (divided by the tolerance), or a fraction of the size |g·v| is expected to have (‖g‖·s), whichever is
/// larger, so neither round-off nor a direction that happens to be nearly orthogonal to the gradient decides a result.
/// The round-off is measured, not assumed: pairs of evaluations a tiny step either side of θ along directions moving
/// every tensor, whose true difference is g·δ, leave the float32 noise of the whole forward pass
/// (<see cref="NoiseProbes"/>); a deep stack on batch statistics has several times the logits' own.
/// </para>
/// <para>
/// A real network has millions of Relu, Clip and max-pool switches; any step large enough to rise above float32
/// round-off flips some of them, and each flip adds an error of its own (a few percent at ε = 1e-3 on SqueezeNet). The
/// perturbed evaluations therefore hold every switch on the backward path where it was at θ
/// (<see cref="HeldSwitchOp"/>): the function then agrees with the model at θ and has the same derivative there, and
/// its central differences are smooth. The pieces are taken from each op's forward definition, never from its
/// backward code. The median over the directions is reported.
/// </para>
/// </summary>
public static class GradientCheck
{
    /// <summary>The bound on a parameter's relative error.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>
    /// Step relative to the parameter's RMS. With the switches held the loss is smooth along the step, so after the
    /// Richardson step the truncation term (of order ε⁴) stays far below the tolerance, while the step is large enough that float32 round-off
    /// of the loss (about 1e-8 of it) is near 1e-5 of a typical directional derivative.
    /// </summary>
    public const double DefaultEpsilon = 1e-2;

    /// <summary>Directions per parameter tensor: an odd count, so the median is one of them.</summary>
    public const int DefaultDirections = 3;

    /// <summary>Scale used for a tensor whose RMS is below it (a freshly zeroed bias).</summary>
    public const double ScaleFloor = 1e-2;

    /// <summary>The relative-error floor, as a fraction of the expected |g·v| = ‖g‖·s.</summary>
    public const double FloorFraction = 1e-2;

    /// <summary>
    /// Round-off of the loss, in units of Σ|z|·|∂L/∂z| over the logits z: four half-ulps of float32 (2⁻²⁴) per logit.
    /// A bias whose gradient is exactly zero (ahead of a batch norm on batch statistics) shows central differences of
    /// about two to three such units, the float32 rounding of the layers before the logits included.
    /// </summary>
    public const double RoundOff = 4.0 / (1 << 24);

    /// <summary>
    /// Pairs of loss evaluations that measure the loss's actual round-off: every trainable tensor moved together by
    /// ±<see cref="NoiseStep"/> of its scale along a seeded direction, where the true change of the loss is g·δ to third
    /// order. What is left over is float32 round-off of the whole forward pass (the layers before the logits included,
    /// which a deep stack on batch statistics makes several times the logits' own).
    /// </summary>
    public const int NoiseProbes = 8;

    /// <summary>The probes' step relative to each tensor's scale: far below ε, so truncation is nil, yet every weight moves.</summary>
    public const double NoiseStep = 1e-4;

    /// <summary>
    /// How many standard deviations of measured round-off a central difference may carry before it is significant:
    /// the round-off term of the floor is this many times the measured loss noise.
    /// </summary>
    public const double NoiseSigmas = 3;

    /// <summary>
    /// Runs the check. <paramref name="graph"/> must end in logits (one output, [N, …] with N = labels.Length), or in
    /// any one output when <see cref="GradientCheckOptions.MseTargets"/> are given; its
    /// parameters' <see cref="Parameter.Trainable"/> flags say what trains. Parameter values (and batch-norm running
    /// statistics, which training-mode forward passes move) are restored afterwards; gradients are left as the
    /// analytic pass computed them.
    /// </summary>
    public static GradientCheckReport Run(ComputeGraph graph, IReadOnlyList<Tensor> inputs, int[] labels, GradientCheckOptions? options = null)
    {
        var o = options ?? new GradientCheckOptions();
        if (o.Directions < 1) throw new ArgumentException("A gradient check needs at least one direction.");
        var sw = Stopwatch.StartNew();
        var f = new GradientCheckLoss(graph, inputs, labels, o);
        var (plan, trainable, original) = (f.Plan, f.Trainable, f.Original);
        var ops = new Dictionary<Node, Ops.Op>();
        double Loss(Tensor? gradient = null, Action<Node, Tensor[]>? afterNode = null) => f.Evaluate(gradient, afterNode);

        try
        {
            // Analytic gradients, exactly as a training step computes them; the inputs of the switching nodes on the
            // backward path are kept to hold their switches afterwards.
            var held = o.HoldSwitches ? plan.BackwardNodes.Where(n => HeldSwitchOp.Holds(n.Op)).ToList() : [];
            var wanted = held.Select(n => n.Inputs[0].Id).ToHashSet();
            var x0 = new Dictionary<int, Tensor>();
            for (int i = 0; i < inputs.Count; i++) if (wanted.Contains(graph.Inputs[i].Id)) x0[graph.Inputs[i].Id] = inputs[i].Clone();
            var dy = new Tensor(plan.Shapes[graph.Outputs[0].Id]);
            double loss = Loss(dy, (node, outs) =>
            {
                for (int i = 0; i < outs.Length; i++)
                    if (wanted.Contains(node.Outputs[i].Id)) x0[node.Outputs[i].Id] = outs[i].Clone();
            });
            double roundOff = RoundOff * f.Sensitivity;
            f.FixState();
            foreach (var p in trainable) p.Grad?.Span.Clear();
            plan.Backward([dy]);
            var grads = trainable.ToDictionary(p => p, p => p.Grad!.Span.ToArray());
            foreach (var n in held)
            {
                ops[n] = n.Op;
                n.Op = HeldSwitchOp.At(n.Op, x0[n.Inputs[0].Id]);
            }

            double noise = MeasureLossNoise(trainable, original, grads, o.Seed, () => Loss());
            roundOff = Math.Max(roundOff, NoiseSigmas * noise);

            var checkedParams = Select(trainable.Where(p => o.Include?.Invoke(p) ?? true).ToList(), o.MaxParameters);
            var rows = new List<ParameterGradientCheck>();
            for (int k = 0; k < checkedParams.Count; k++)
            {
                var p = checkedParams[k];
                rows.Add(CheckParameter(p, original[p], grads[p], o, k, roundOff, () => Loss()));
                original[p].CopyTo(p.Value.Span);
            }
            return new GradientCheckReport(rows, loss, o.Tolerance, o.Epsilon, trainable.Count, held.Count, f.Forwards, sw.Elapsed.TotalSeconds, noise);
        }
        finally
        {
            foreach (var (n, op) in ops) n.Op = op;
            f.Restore();
        }
    }

    /// <summary>
    /// The standard deviation of one loss evaluation's round-off: over <see cref="NoiseProbes"/> seeded directions δ
    /// moving every trainable tensor at once, r = L(θ + δ) − L(θ − δ) − 2·g·δ (the second-order term cancels, the third is
    /// negligible at <see cref="NoiseStep"/>) carries the round-off of two evaluations, so σ = rms(r)/√2.
    /// </summary>
    internal static double MeasureLossNoise(List<Parameter> trainable, Dictionary<Parameter, float[]> original, Dictionary<Parameter, float[]> grads, int seed, Func<double> loss)
    {
        double sumSq = 0;
        var directions = trainable.ToDictionary(p => p, p => new double[p.Value.Length]);
        var steps = trainable.ToDictionary(p => p, p => Scale(original[p]) * NoiseStep);
        for (int k = 0; k < NoiseProbes; k++)
        {
            var rng = new Random(unchecked(seed * 31 + 977 * (k + 1)));
            foreach (var p in trainable)
            {
                var v = directions[p];
                double s = steps[p];
                for (int i = 0; i < v.Length; i++) v[i] = Gaussian(rng) * s;
            }
            double Side(int sign)
            {
                double linear = 0;
                foreach (var p in trainable)
                {
                    var theta = original[p]; var w = p.Value.Data; var v = directions[p]; var g = grads[p];
                    for (int i = 0; i < w.Length; i++) { w[i] = (float)(theta[i] + sign * v[i]); linear += g[i] * ((double)w[i] - theta[i]); }
                }
                return loss() - linear;
            }
            double r = Side(1) - Side(-1);
            sumSq += r * r;
            foreach (var p in trainable) original[p].CopyTo(p.Value.Span);
        }
        return Math.Sqrt(sumSq / NoiseProbes / 2);
    }

    /// <summary>At most <paramref name="max"/> items spread evenly over the list, the last one always included.</summary>
    static List<Parameter> Select(List<Parameter> ps, int max)
    {
        if (max <= 0 || ps.Count <= max) return ps;
        return Enumerable.Range(0, max).Select(i => ps[(int)Math.Round((double)(ps.Count - 1) * (i + 1) / max)]).Distinct().ToList();
    }

    /// <summary>Σ|z|·|∂L/∂z| over the logits: how much the loss moves when every logit moves by its own relative round-off.</summary>
    internal static readonly Losses.MeanSquaredErrorLoss Mse = new();

    internal static double LogitSensitivity(Tensor logits, Tensor dLogits)
    {
        double sum = 0;
        var z = logits.Span; var d = dLogits.Span;
        for (int i = 0; i < z.Length; i++) sum += Math.Abs((double)z[i] * d[i]);
        return sum;
    }

    static ParameterGradientCheck CheckParameter(Parameter p, float[] theta, float[] g, GradientCheckOptions o, int index, double roundOff, Func<double> loss)
    {
        int n = theta.Length;
        double s = Scale(theta);
        double gNorm = Math.Sqrt(g.Sum(v => (double)v * v));
        // Per unit of ε, a central difference carries about roundOff/ε of round-off; below that/tolerance nothing is significant.
        double floor = Math.Max(FloorFraction * gNorm * s, roundOff / (o.Epsilon * o.Tolerance));
        var w = p.Value.Data;
        var v = new double[n];
        var results = new List<(double Analytic, double Numeric, double Error)>();

        // The numeric and analytic changes of the loss per unit of ε at step h, along the float32 steps actually taken.
        (double Analytic, double Numeric) Central(double h)
        {
            double analytic = 0;
            for (int i = 0; i < n; i++) { w[i] = (float)(theta[i] + h * v[i]); analytic += (double)g[i] * (w[i] - (double)theta[i]); }
            double plus = loss();
            for (int i = 0; i < n; i++) { w[i] = (float)(theta[i] - h * v[i]); analytic -= (double)g[i] * (w[i] - (double)theta[i]); }
            double minus = loss();
            return (analytic / (2 * h), (plus - minus) / (2 * h));
        }
        for (int d = 0; d < o.Directions; d++)
        {
            var rng = new Random(unchecked(o.Seed * 1_000_003 + index * 7919 + d));
            for (int i = 0; i < n; i++) v[i] = Gaussian(rng) * s;
            // Central differences at ε and 2ε, combined by Richardson extrapolation: (4·D(ε) − D(2ε))/3 cancels the
            // ε² term (batch norm on batch statistics is strongly curved), which the held switches make legitimate.
            var (a1, n1) = Central(o.Epsilon);
            var (a2, n2) = Central(2 * o.Epsilon);
            double analytic = (4 * a1 - a2) / 3, numeric = (4 * n1 - n2) / 3;
            results.Add((analytic, numeric, RelativeError(analytic, numeric, floor)));
        }
        theta.CopyTo(p.Value.Span);
        var ordered = results.OrderBy(r => r.Error).ToList();
        var median = ordered[(ordered.Count - 1) / 2];
        return new ParameterGradientCheck(p.Name, p.Value.ShapeArray, median.Analytic, median.Numeric, median.Error,
            ordered[^1].Error, o.Directions, floor, median.Error <= o.Tolerance);
    }

    /// <summary>A tensor's step scale: its root-mean-square value, at least <see cref="ScaleFloor"/>.</summary>
    internal static double Scale(float[] theta) => Math.Max(Math.Sqrt(theta.Sum(v => (double)v * v) / Math.Max(theta.Length, 1)), ScaleFloor);

    /// <summary>|a − n| / max(|a|, |n|, floor); zero when both are zero.</summary>
    public static double RelativeError(double analytic, double numeric, double floor)
    {
        double scale = Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), floor);
        return scale == 0 ? 0 : Math.Abs(analytic - numeric) / scale;
    }

    internal static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
