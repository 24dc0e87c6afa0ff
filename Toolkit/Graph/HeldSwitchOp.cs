using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// A piecewise op (Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, MaxPool, GlobalMaxPool) evaluated on the piece its
/// reference input x₀ selected: y = f_k(x) with k = piece(x₀). It agrees with the op at x₀ and has the same derivative
/// there, but no switch flips when x moves, so central differences through it are not spoiled by kink crossings.
/// The pieces come from each op's forward definition, not from its backward code, so a wrong backward is still caught.
/// Forward only; used by <see cref="GradientCheck"/> for its perturbed evaluations.
/// </summary>
sealed class HeldSwitchOp : Op
{
    readonly Op _inner;
    readonly float[] _x0;
    /// <summary>For max pooling: the input index each output reads at x₀ (−1: a window with no input tap).</summary>
    readonly int[]? _argmax;

    HeldSwitchOp(Op inner, float[] x0, int[]? argmax) { _inner = inner; _x0 = x0; _argmax = argmax; }

    /// <summary>Whether <paramref name="op"/> has switches this class can hold.</summary>
    public static bool Holds(Op op) => op is ReluOp or LeakyReluOp or ClipOp or HardSigmoidOp or HardSwishOp
        || op is PoolOp { IsMax: true } || op is GlobalPoolOp { IsMax: true };

    /// <summary>Holds <paramref name="op"/>'s switches where its input <paramref name="x0"/> put them.</summary>
    public static HeldSwitchOp At(Op op, Tensor x0) => new(op, x0.Span.ToArray(), op switch
    {
        PoolOp p => PoolArgMax(p.Geometry(x0.ShapeArray), x0.Span),
        GlobalPoolOp => GlobalArgMax(x0),
        _ => null,
    });

    public override string Type => _inner.Type;
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => _inner.InferShapes(inputs);
    public override string Describe() => $"{_inner.Describe()} (switches held)";

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0].Span; var y = ctx.Outputs[0].Span;
        if (_argmax != null)
        {
            // Max pooling: the tap that won at x₀ (a window without taps keeps its x₀ output, which nothing moves).
            for (int o = 0; o < y.Length; o++) y[o] = _argmax[o] >= 0 ? x[_argmax[o]] : float.NegativeInfinity;
            return;
        }
        if (x.Length != _x0.Length) throw new ShapeException($"{Type}: held switches were recorded for {_x0.Length} elements, not {x.Length}.");
        switch (_inner)
        {
            case ReluOp:
                for (int i = 0; i < y.Length; i++) y[i] = _x0[i] > 0 ? x[i] : 0;
                break;
            case LeakyReluOp l:
                for (int i = 0; i < y.Length; i++) y[i] = _x0[i] >= 0 ? x[i] : l.Alpha * x[i];
                break;
            case ClipOp c:
                for (int i = 0; i < y.Length; i++) y[i] = _x0[i] < c.Min ? c.Min : _x0[i] > c.Max ? c.Max : x[i];
                break;
            case HardSigmoidOp h:
                for (int i = 0; i < y.Length; i++)
                {
                    float t0 = h.Alpha * _x0[i] + h.Beta;
                    y[i] = t0 <= 0 ? 0 : t0 >= 1 ? 1 : h.Alpha * x[i] + h.Beta;
                }
                break;
            case HardSwishOp:
                for (int i = 0; i < y.Length; i++) y[i] = _x0[i] <= -3 ? 0 : _x0[i] >= 3 ? x[i] : x[i] * (x[i] / 6f + 0.5f);
                break;
            default:
                throw new NotSupportedException($"{Type} has no switches to hold.");
        }
    }

    /// <summary>The first tap (row-major window order) holding each window's maximum, from the window geometry alone.</summary>
    static int[] PoolArgMax(in Kernels.Pool2DGeometry g, ReadOnlySpan<float> x)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        var arg = new int[g.Batch * g.Channels * oh * ow];
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int best = -1; float max = float.NegativeInfinity;
                    for (int u = 0; u < g.KernelH; u++)
                    {
                        int r = i * g.StrideH - g.PadTop + u * g.DilationH;
                        if (r < 0 || r >= g.InHeight) continue;
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            int c = j * g.StrideW - g.PadLeft + v * g.DilationW;
                            if (c < 0 || c >= g.InWidth) continue;
                            int q = p * plane + r * g.InWidth + c;
                            if (best < 0 || x[q] > max) { best = q; max = x[q]; }
                        }
                    }
                    arg[(p * oh + i) * ow + j] = best;
                }
        return arg;
    }

    /// <summary>The first element holding each plane's maximum.</summary>
    static int[] GlobalArgMax(Tensor x0)
    {
        int planes = x0.Dim(0) * x0.Dim(1), size = x0.Length / Math.Max(planes, 1);
        var x = x0.Span;
        var arg = new int[planes];
        for (int p = 0; p < planes; p++)
        {
            int best = p * size;
            for (int k = 1; k < size; k++) if (x[p * size + k] > x[best]) best = p * size + k;
            arg[p] = best;
        }
        return arg;
    }
}
