using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Ops;

/// <summary>
/// Central-difference check of an op's backward: L = Σ r·y for a random r; the analytic dL/dx from Backward must
/// match (L(x + h) − L(x − h)) / 2h at sampled elements of every checked input.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Step of the central difference. The kernels are float32, so the step is large enough that round-off
    /// (≈ 1e-7·|affected y|/h) stays near 1e-5 while truncation (h²·f‴/6) stays below 1e-4 for smooth ops.
    /// </summary>
    public const float Step = 1e-2f;

    /// <summary>Allowed |analytic − numeric| ≤ Absolute + Relative·|numeric| (float32 forward passes, see <see cref="Step"/>).</summary>
    public const double Absolute = 2e-3, Relative = 1e-2;

    /// <summary>How many elements of each input are perturbed (all of them when fewer).</summary>
    public const int SamplesPerInput = 48;

    public static void Check(Op op, Tensor[] inputs, bool[]? check = null, bool training = false, int seed = 0)
    {
        check ??= inputs.Select(_ => true).ToArray();
        var shapes = op.InferShapes(inputs.Select(t => t.ShapeArray).ToArray());
        var rng = new Random(seed);
        var r = shapes.Select(s => { var t = new Tensor(s); for (int i = 0; i < t.Length; i++) t.Span[i] = (float)(rng.NextDouble() * 2 - 1); return t; }).ToArray();
        var ws = new float[Math.Max(op.WorkspaceLength(inputs.Select(t => t.ShapeArray).ToArray()), 1)];

        (double Loss, OpContext Ctx) Run(Tensor[] xs)
        {
            var outs = shapes.Select(s => new Tensor(s)).ToArray();
            var ctx = new OpContext { Inputs = xs, Outputs = outs, Workspace = ws, Training = training };
            op.Forward(ctx);
            if (op.IsView) ctx.Outputs[0] = xs[0].Reshaped(shapes[0]);
            double l = 0;
            for (int o = 0; o < outs.Length; o++)
                for (int i = 0; i < r[o].Length; i++) l += (double)r[o].Span[i] * ctx.Outputs[o].Span[i];
            return (l, ctx);
        }

        // Inputs that are state (BatchNormalization's running statistics) must not drift between evaluations.
        Tensor[] Fresh() => inputs.Select(t => t.Clone()).ToArray();

        var (_, ctx) = Run(Fresh());
        ctx.OutputGrads = r;
        ctx.InputGrads = inputs.Select((t, i) => check[i] ? new Tensor(t.ShapeArray) : null).ToArray();
        op.Backward(ctx);
        CheckSetsFreshGradients(op, ctx, check);
        CheckInPlaceGradients(op, ctx, check);
        CheckIgnoresValuesItDoesNotRead(op, ctx);
        CheckIgnoresBufferSlack(op, ctx, ws);

        for (int k = 0; k < inputs.Length; k++)
        {
            if (!check[k]) continue;
            int n = inputs[k].Length;
            var picks = n <= SamplesPerInput ? Enumerable.Range(0, n) : Enumerable.Range(0, SamplesPerInput).Select(_ => rng.Next(n)).Distinct();
            foreach (var i in picks)
            {
                var plus = Fresh(); plus[k].Span[i] += Step;
                var minus = Fresh(); minus[k].Span[i] -= Step;
                double numeric = (Run(plus).Loss - Run(minus).Loss) / (2 * Step);
                double analytic = ctx.InputGrads[k]!.Span[i];
                Assert.True(Math.Abs(analytic - numeric) <= Absolute + Relative * Math.Abs(numeric),
                    $"{op.Describe()}: input {k} element {i}: analytic {analytic:G6}, numeric {numeric:G6}");
            }
        }
    }

    /// <summary>
    /// For inputs whose gradient the op sets whole when fresh (<see cref="Op.OverwritesInputGrad"/>): backward again
    /// into buffers full of NaN marked fresh must give exactly the gradients added into zeroed buffers (every element
    /// is written, and 0 + v = v).
    /// </summary>
    static void CheckSetsFreshGradients(Op op, OpContext ctx, bool[] check)
    {
        var fresh = check.Select((c, i) => c && op.OverwritesInputGrad(i)).ToArray();
        if (!fresh.Any(f => f)) return;
        var added = ctx.InputGrads;
        var set = added.Select((t, i) => t == null ? null : fresh[i] ? Filled(t.ShapeArray, float.NaN) : new Tensor(t.ShapeArray)).ToArray();
        var state = ctx.State;
        ctx.InputGrads = set;
        ctx.InputGradFresh = fresh;
        op.Backward(ctx);
        ctx.InputGradFresh = [];
        ctx.InputGrads = added;
        ctx.State = state;
        for (int k = 0; k < fresh.Length; k++)
        {
            if (!fresh[k]) continue;
            for (int i = 0; i < set[k]!.Length; i++)
                Assert.True(set[k]!.Span[i].Equals(added[k]!.Span[i]),
                    $"{op.Describe()}: input {k} element {i}: set {set[k]!.Span[i]:G9}, added {added[k]!.Span[i]:G9}");
        }
    }

    /// <summary>
    /// For an input whose gradient may be written over output 0's (<see cref="Op.BackwardInPlace"/>): backward again with
    /// that input's gradient in the very buffer of a copy of the output gradient, marked fresh, must give exactly the
    /// gradient added into a zeroed buffer.
    /// </summary>
    static void CheckInPlaceGradients(Op op, OpContext ctx, bool[] check)
    {
        var outGrads = ctx.OutputGrads;
        for (int k = 0; k < check.Length; k++)
        {
            if (!check[k] || !op.OverwritesInputGrad(k) || !op.BackwardInPlace(k) || ctx.InputGrads[k]!.Length != outGrads[0].Length) continue;
            var added = ctx.InputGrads;
            var state = ctx.State;
            var shared = outGrads[0].Clone();
            ctx.OutputGrads = outGrads.Select((g, o) => o == 0 ? shared : g).ToArray();
            ctx.InputGrads = added.Select((t, i) => t == null ? null : i == k ? new Tensor(t.ShapeArray, shared.Data) : new Tensor(t.ShapeArray)).ToArray();
            ctx.InputGradFresh = check.Select((_, i) => i == k).ToArray();
            op.Backward(ctx);
            var got = ctx.InputGrads[k]!;
            ctx.InputGradFresh = [];
            ctx.InputGrads = added; ctx.OutputGrads = outGrads; ctx.State = state;
            for (int i = 0; i < got.Length; i++)
                Assert.True(got.Span[i].Equals(added[k]!.Span[i]),
                    $"{op.Describe()}: input {k} element {i}: in place {got.Span[i]:G9}, apart {added[k]!.Span[i]:G9}");
        }
    }

    /// <summary>
    /// For inputs and outputs the op says backward does not read (<see cref="Op.BackwardReadsInput"/>,
    /// <see cref="Op.BackwardReadsOutput"/>; a training plan reuses their buffers): backward again with them full of
    /// NaN must give exactly the same gradients.
    /// </summary>
    static void CheckIgnoresValuesItDoesNotRead(Op op, OpContext ctx)
    {
        var inputs = ctx.Inputs; var outputs = ctx.Outputs;
        var hiddenIn = inputs.Select((_, i) => !op.BackwardReadsInput(i)).ToArray();
        var hiddenOut = outputs.Select((_, o) => !op.BackwardReadsOutput(o)).ToArray();
        if (!hiddenIn.Any(h => h) && !hiddenOut.Any(h => h)) return;
        var expected = ctx.InputGrads;
        var state = ctx.State;
        ctx.Inputs = inputs.Select((t, i) => hiddenIn[i] ? Filled(t.ShapeArray, float.NaN) : t).ToArray();
        ctx.Outputs = outputs.Select((t, o) => hiddenOut[o] ? Filled(t.ShapeArray, float.NaN) : t).ToArray();
        ctx.InputGrads = expected.Select(t => t == null ? null : new Tensor(t.ShapeArray)).ToArray();
        op.Backward(ctx);
        var got = ctx.InputGrads;
        ctx.Inputs = inputs; ctx.Outputs = outputs; ctx.InputGrads = expected; ctx.State = state;
        for (int k = 0; k < expected.Length; k++)
        {
            if (expected[k] == null) continue;
            for (int i = 0; i < expected[k]!.Length; i++)
                Assert.True(got[k]!.Span[i].Equals(expected[k]!.Span[i]),
                    $"{op.Describe()}: input {k} element {i}: {got[k]!.Span[i]:G9} with the unread values hidden, {expected[k]!.Span[i]:G9} with them");
        }
    }

    /// <summary>Elements of NaN past the end of every tensor in <see cref="CheckIgnoresBufferSlack"/>.</summary>
    const int SlackElements = 17;

    /// <summary>
    /// A training plan hands out shared buffers that may be longer than the tensor they hold. Forward and backward
    /// again with every input, output and gradient in a buffer <see cref="SlackElements"/> longer, the tail full of
    /// NaN, must give exactly the same outputs and gradients: an op takes sizes from its tensors, never from arrays.
    /// </summary>
    static void CheckIgnoresBufferSlack(Op op, OpContext ctx, float[] ws)
    {
        if (op.IsView) return;
        var inputs = ctx.Inputs; var outputs = ctx.Outputs; var outGrads = ctx.OutputGrads; var expected = ctx.InputGrads;
        var state = ctx.State;
        var slackOut = outputs.Select(t => Slack(t.ShapeArray)).ToArray();
        var fwd = new OpContext { Inputs = inputs.Select(Slack).ToArray(), Outputs = slackOut, Workspace = ws, Training = ctx.Training, Step = ctx.Step };
        op.Forward(fwd);
        for (int o = 0; o < outputs.Length; o++)
            for (int i = 0; i < outputs[o].Length; i++)
                Assert.True(slackOut[o].Span[i].Equals(outputs[o].Span[i]),
                    $"{op.Describe()}: output {o} element {i}: {slackOut[o].Span[i]:G9} with buffer slack, {outputs[o].Span[i]:G9} without");
        fwd.OutputGrads = outGrads.Select(Slack).ToArray();
        fwd.InputGrads = expected.Select(t => t == null ? null : Slack(t.ShapeArray, 0f)).ToArray();
        fwd.Inputs = inputs.Select(Slack).ToArray();
        fwd.Outputs = outputs.Select(Slack).ToArray();
        op.Backward(fwd);
        ctx.State = state;
        for (int k = 0; k < expected.Length; k++)
        {
            if (expected[k] == null) continue;
            for (int i = 0; i < expected[k]!.Length; i++)
                Assert.True(fwd.InputGrads[k]!.Span[i].Equals(expected[k]!.Span[i]),
                    $"{op.Describe()}: input {k} element {i}: gradient {fwd.InputGrads[k]!.Span[i]:G9} with buffer slack, {expected[k]!.Span[i]:G9} without");
        }
    }

    /// <summary>A copy of t in a buffer <see cref="SlackElements"/> longer, the tail NaN.</summary>
    static Tensor Slack(Tensor t)
    {
        var s = Slack(t.ShapeArray);
        t.Span.CopyTo(s.Span);
        return s;
    }

    /// <summary>A tensor of zeros (or <paramref name="fill"/>) in a buffer <see cref="SlackElements"/> longer, the tail NaN.</summary>
    static Tensor Slack(int[] shape, float fill = 0f)
    {
        var data = new float[Shapes.ElementCount(shape) + SlackElements];
        Array.Fill(data, float.NaN);
        var t = new Tensor(shape, data);
        t.Span.Fill(fill);
        return t;
    }

    static Tensor Filled(int[] shape, float value)
    {
        var t = new Tensor(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>Uniform values in ±scale, kept at least <paramref name="margin"/> away from zero (the kink of Relu-like ops).</summary>
    public static Tensor Random(int[] shape, int seed, float scale = 1f, float margin = 0f)
    {
        var rng = new Random(seed);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++)
        {
            float v = (float)(rng.NextDouble() * 2 - 1) * scale;
            if (Math.Abs(v) < margin) v = v < 0 ? -margin : margin;
            t.Span[i] = v;
        }
        return t;
    }

    /// <summary>Distinct values (a shuffled ramp) so max-style ops have no ties within a step.</summary>
    public static Tensor Distinct(int[] shape, int seed)
    {
        var t = new Tensor(shape);
        var rng = new Random(seed);
        var order = Enumerable.Range(0, t.Length).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < t.Length; i++) t.Span[i] = (order[i] - t.Length / 2f) * 0.05f;
        return t;
    }
}
