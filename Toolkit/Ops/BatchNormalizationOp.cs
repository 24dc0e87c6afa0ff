using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// BatchNormalization over axis 1 of an N×C×… tensor. Inputs: x, scale, bias, running mean, running var.
/// Inference (and frozen statistics): y = (x − mean)/√(var + ε)·scale + bias, computed as y = x·s + t per channel.
/// Training: batch mean and (biased) variance over N and space; running statistics move by the ONNX convention
/// running = running·momentum + batch·(1 − momentum).
/// Gradient (training): x̂ = (x − μ)·σ⁻¹, dscale = Σ g·x̂, dbias = Σ g, dx = scale·σ⁻¹/M·(M·g − Σg − x̂·Σ g·x̂).
/// Gradient (fixed statistics): dx = g·scale·σ⁻¹, dscale = Σ g·x̂, dbias = Σ g.
/// </summary>
public sealed class BatchNormalizationOp(float epsilon, float momentum) : Op
{
    public float Epsilon { get; } = epsilon;
    /// <summary>ONNX convention: running = running·momentum + batch·(1 − momentum).</summary>
    public float Momentum { get; } = momentum;
    public override string Type => "BatchNormalization";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        if (x.Length < 2) throw new ShapeException("BatchNormalization needs an input of rank ≥ 2.");
        for (int i = 1; i < 5; i++)
            if (Shapes.ElementCount(inputs[i]) != x[1])
                throw new ShapeException($"BatchNormalization input {i} has {Shapes.ElementCount(inputs[i])} elements for {x[1]} channels.");
        return [(int[])x.Clone()];
    }

    /// <summary>Per-channel mean and 1/σ used by the last forward (batch statistics in training, running ones otherwise).</summary>
    sealed class Saved(int c)
    {
        public readonly float[] Mean = new float[c];
        public readonly float[] InvStd = new float[c];
        /// <summary>Whether the last forward normalised with batch statistics (its backward then is the training one).</summary>
        public bool BatchStatistics;
    }

    /// <summary>
    /// The fewest values per channel (N·H·W) batch statistics are taken over. Over fewer — a batch norm after a
    /// squeeze-excite or classifier 1×1 convolution at batch 2 — x̂ is ±1 whatever the input, so the layer is a step
    /// function of it: no gradient reaches the layers below and the loss jumps when a difference changes sign. Such a
    /// layer normalises with its running statistics in training too (as in inference; they are not updated), and its
    /// backward is the fixed-statistics one. PyTorch refuses one value per channel; this degrades gracefully instead.
    /// </summary>
    public const int MinBatchStatisticsValues = 8;


    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        var scale = ctx.Inputs[1].Data; var bias = ctx.Inputs[2].Data; var runMean = ctx.Inputs[3].Data; var runVar = ctx.Inputs[4].Data;
        int n = x.Dim(0), c = x.Dim(1), plane = x.Length / Math.Max(n * c, 1);
        var xd = x.Data; var yd = y.Data;
        var saved = ctx.State as Saved;
        if (saved == null || saved.Mean.Length != c) ctx.State = saved = new Saved(c);
        saved.BatchStatistics = ctx.Training && (long)n * plane >= MinBatchStatisticsValues;
        if (saved.BatchStatistics)
        {
            Threading.Workers.For(c, (long)n * plane * 2, (s, e) =>
            {
                for (int ch = s; ch < e; ch++)
                {
                    // One pass about a shift: Σ(x − k) and Σ(x − k)² with k the first plane's mean, close enough to the
                    // channel's mean that E[(x − k)²] − E[x − k]² does not cancel; per-plane sums are vectorized in
                    // float and added up in double.
                    float k = plane == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Sum(xd.AsSpan(ch * plane, plane)) / plane;
                    double s1 = 0, s2 = 0;
                    for (int b = 0; b < n; b++)
                    {
                        var (p1, p2) = ShiftedSums(xd.AsSpan((b * c + ch) * plane, plane), k);
                        s1 += p1; s2 += p2;
                    }
                    int m = n * plane;
                    double d = s1 / m, mean = k + d, sq = Math.Max(0, s2 - s1 * d);
                    double variance = sq / m;
                    saved.Mean[ch] = (float)mean;
                    saved.InvStd[ch] = (float)(1 / Math.Sqrt(variance + Epsilon));
                    runMean[ch] = (float)(runMean[ch] * Momentum + mean * (1 - Momentum));
                    runVar[ch] = (float)(runVar[ch] * Momentum + variance * (1 - Momentum));
                }
            });
        }
        else
        {
            for (int ch = 0; ch < c; ch++)
            {
                saved.Mean[ch] = runMean[ch];
                saved.InvStd[ch] = 1f / MathF.Sqrt(runVar[ch] + Epsilon);
            }
        }
        Normalize(ctx, saved, record: true);
    }

    /// <summary>
    /// y = x·sc + sh per channel, sc = scale·σ⁻¹ and sh = bias − mean·sc from the statistics the forward pass used. With
    /// an <see cref="OpContext.Fusion"/> the values go to the activation's output and the activation runs over each
    /// group of planes just written (groups of whole bytes of mask: 8 / gcd(plane, 8) planes), recording its mask when
    /// <paramref name="record"/>; the values are the same as the two passes give.
    /// </summary>
    static void Normalize(OpContext ctx, Saved saved, bool record)
    {
        var x = ctx.Inputs[0];
        var scale = ctx.Inputs[1].Data; var bias = ctx.Inputs[2].Data;
        int n = x.Dim(0), c = x.Dim(1), plane = x.Length / Math.Max(n * c, 1);
        var xd = x.Data;
        var f = ctx.Fusion;
        var yd = f?.Output.Data ?? ctx.Outputs[0].Data;
        var bits = f != null && record && f.Context.RecordsForBackward ? f.Op.MaskBits(f.Context, x.Length) : null;
        // Alone, a plane at a time; fused, groups of planes whose mask bits fill whole bytes.
        int group = f == null || plane == 0 ? 1 : 8 / (int)System.Numerics.BigInteger.GreatestCommonDivisor(plane, 8);
        int planes = n * c, groups = (planes + group - 1) / group;
        // A Relu or Clip (a clamp) goes into the same pass, bits and all; another activation runs over each group after it.
        var clamp = f?.Op.ClampBounds;
        var (passLo, passHi) = f?.Op.PassInterval ?? (0, float.NaN);
        Threading.Workers.For(groups, (long)plane * group * (f == null ? 1 : 2), (s, e) =>
        {
            for (int gi = s; gi < e; gi++)
            {
                int p0 = gi * group, p1 = Math.Min(p0 + group, planes);
                for (int nc = p0; nc < p1; nc++)
                {
                    int ch = nc % c;
                    float sc = scale[ch] * saved.InvStd[ch];
                    float sh = bias[ch] - saved.Mean[ch] * sc;
                    // y = x·sc + sh over the plane.
                    if (clamp is var (lo, hi))
                        Kernels.ScaleShiftClamp.Apply(xd.AsSpan(nc * plane, plane), sc, sh, lo, hi, yd.AsSpan(nc * plane, plane), bits, (long)nc * plane, passLo, passHi);
                    else ScaleShift(xd.AsSpan(nc * plane, plane), sc, sh, yd.AsSpan(nc * plane, plane));
                }
                if (clamp == null) f?.Op.ApplyRecording(yd, yd, p0 * plane, (p1 - p0) * plane, bits);
            }
        });
    }

    /// <summary>One pass over x with the statistics the forward pass kept: replayed without touching the running ones.</summary>
    public override bool CanReplay => true;

    public override void Replay(OpContext ctx)
    {
        if (ctx.State is not Saved saved || saved.Mean.Length != ctx.Inputs[0].Dim(1))
            throw new InvalidOperationException("BatchNormalization replay needs the statistics of a forward pass.");
        Normalize(ctx, saved, record: false);
    }

    public override bool HasBackward => true;

    /// <summary>The input gradient is set whole when fresh; scale and bias gradients always add.</summary>
    public override bool OverwritesInputGrad(int input) => input == 0;

    /// <summary>Each channel's output gradient is summed whole before that channel's input gradient is written.</summary>
    public override bool BackwardInPlace(int input) => input == 0;

    /// <summary>Backward reads the inputs (and the forward's saved state), never the output.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var g = ctx.OutputGrads[0];
        bool add = !ctx.IsFresh(0);
        var saved = (Saved)ctx.State!;
        var scale = ctx.Inputs[1].Data;
        int n = x.Dim(0), c = x.Dim(1), plane = x.Length / Math.Max(n * c, 1);
        int m = n * plane;
        var xd = x.Data; var gd = g.Data;
        var gx = ctx.InputGrads[0]?.Data; var gScale = ctx.InputGrads[1]?.Data; var gBias = ctx.InputGrads[2]?.Data;
        bool training = saved.BatchStatistics;
        Threading.Workers.For(c, (long)m * 3, (s, e) =>
        {
            for (int ch = s; ch < e; ch++)
            {
                float mean = saved.Mean[ch], inv = saved.InvStd[ch];
                // Σg and Σg·x̂ = σ⁻¹·Σg·(x − μ), centred per element: Σg·x − μ·Σg would cancel when |μ| ≫ σ.
                double sumG = 0, sumGC = 0;
                for (int b = 0; b < n; b++)
                {
                    int o = (b * c + ch) * plane;
                    var (sg, sgc) = SumAndCentredDot(gd.AsSpan(o, plane), xd.AsSpan(o, plane), mean);
                    sumG += sg;
                    sumGC += sgc;
                }
                double sumGx = inv * sumGC;
                if (gScale != null) gScale[ch] += (float)sumGx;
                if (gBias != null) gBias[ch] += (float)sumG;
                if (gx == null) continue;
                float k = scale[ch] * inv;
                // Training: dx = k/M·(M·g − Σg − x̂·Σg·x̂) = k·g + β·(x − μ) + γ with β = −k·σ⁻¹·Σg·x̂/M, γ = −k·Σg/M.
                float beta = training ? (float)(-k * inv * sumGx / m) : 0;
                float gamma = training ? (float)(-k * sumG / m) : 0;
                for (int b = 0; b < n; b++)
                {
                    int o = (b * c + ch) * plane;
                    if (!training && add) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gd.AsSpan(o, plane), k, gx.AsSpan(o, plane), gx.AsSpan(o, plane));
                    else if (!training) System.Numerics.Tensors.TensorPrimitives.Multiply(gd.AsSpan(o, plane), k, gx.AsSpan(o, plane));
                    else AddAffine(gd.AsSpan(o, plane), xd.AsSpan(o, plane), mean, k, beta, gamma, gx.AsSpan(o, plane), add);
                }
            }
        });
    }

    /// <summary>(Σ (x − k), Σ (x − k)²) over a plane in one pass: two vector accumulators per sum, then the tail per element.</summary>
    static (float Sum, float SumOfSquares) ShiftedSums(ReadOnlySpan<float> x, float k)
    {
        int i = 0;
        float sum = 0, squares = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var shift = new System.Numerics.Vector<float>(k);
            System.Numerics.Vector<float> s0 = default, s1 = default, q0 = default, q1 = default;
            for (; i <= x.Length - 2 * w; i += 2 * w)
            {
                var d0 = new System.Numerics.Vector<float>(x.Slice(i, w)) - shift; var d1 = new System.Numerics.Vector<float>(x.Slice(i + w, w)) - shift;
                s0 += d0; s1 += d1; q0 += d0 * d0; q1 += d1 * d1;
            }
            sum = System.Numerics.Vector.Sum(s0 + s1);
            squares = System.Numerics.Vector.Sum(q0 + q1);
        }
        for (; i < x.Length; i++) { float d = x[i] - k; sum += d; squares += d * d; }
        return (sum, squares);
    }

    /// <summary>
    /// (Σ g, Σ g·(x − μ)) over a plane in one pass (g is read once, not once per sum): two vector accumulators per sum,
    /// added lane by lane at the end, then the tail per element.
    /// </summary>
    static (float SumG, float SumGC) SumAndCentredDot(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mean)
    {
        int i = 0;
        float sumG = 0, sumGC = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var mu = new System.Numerics.Vector<float>(mean);
            System.Numerics.Vector<float> s0 = default, s1 = default, d0 = default, d1 = default;
            for (; i <= g.Length - 2 * w; i += 2 * w)
            {
                var g0 = new System.Numerics.Vector<float>(g.Slice(i, w)); var g1 = new System.Numerics.Vector<float>(g.Slice(i + w, w));
                s0 += g0; s1 += g1;
                d0 += g0 * (new System.Numerics.Vector<float>(x.Slice(i, w)) - mu); d1 += g1 * (new System.Numerics.Vector<float>(x.Slice(i + w, w)) - mu);
            }
            sumG = System.Numerics.Vector.Sum(s0 + s1);
            sumGC = System.Numerics.Vector.Sum(d0 + d1);
        }
        for (; i < g.Length; i++) { sumG += g[i]; sumGC += g[i] * (x[i] - mean); }
        return (sumG, sumGC);
    }

    /// <summary>y = x·a + b in one vectorized pass; the tail is the same expression per element.</summary>
    static void ScaleShift(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var va = new System.Numerics.Vector<float>(a); var vb = new System.Numerics.Vector<float>(b);
            for (; i <= x.Length - w; i += w) (new System.Numerics.Vector<float>(x.Slice(i, w)) * va + vb).CopyTo(y.Slice(i, w));
        }
        for (; i < x.Length; i++) y[i] = x[i] * a + b;
    }

    /// <summary>dx += k·g + β·(x − μ) + γ (dx = that when <paramref name="add"/> is false), vectorized; the tail is the same expression per element.</summary>
    static void AddAffine(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mean, float k, float beta, float gamma, Span<float> dx, bool add)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<float>.Count;
            var vm = new System.Numerics.Vector<float>(mean);
            var vk = new System.Numerics.Vector<float>(k); var vb = new System.Numerics.Vector<float>(beta); var vc = new System.Numerics.Vector<float>(gamma);
            for (; i <= g.Length - w; i += w)
            {
                var v = vk * new System.Numerics.Vector<float>(g.Slice(i, w)) + vb * (new System.Numerics.Vector<float>(x.Slice(i, w)) - vm) + vc;
                (add ? new System.Numerics.Vector<float>(dx.Slice(i, w)) + v : v).CopyTo(dx.Slice(i, w));
            }
        }
        for (; i < g.Length; i++) dx[i] = (add ? dx[i] : 0) + (k * g[i] + beta * (x[i] - mean) + gamma);
    }

    public override string Describe() => $"BatchNormalization(epsilon={Epsilon}, momentum={Momentum})";
}
