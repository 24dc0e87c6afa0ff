using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Base of the two-operand elementwise ops with numpy broadcasting. Backward adds each operand's partial derivative
/// times the output gradient, summed over the dimensions the operand was broadcast along.
/// </summary>
public abstract class BinaryOp(BinaryKind kind) : Op
{
    /// <summary>The broadcast of the last operand shapes seen, as one reference: plans on other threads share the op (<see cref="Graph.SplitBatchPlan"/>).</summary>
    sealed record Cached(int[] A, int[] B, Broadcast Bc);
    Cached? _cache;

    public BinaryKind Kind { get; } = kind;

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Shapes.Broadcast(inputs[0], inputs[1])];

    /// <summary>The broadcast for these operand shapes (cached for the last pair seen).</summary>
    protected Broadcast BroadcastFor(Tensor a, Tensor b)
    {
        var c = Volatile.Read(ref _cache);
        if (c != null && a.Shape.SequenceEqual(c.A) && b.Shape.SequenceEqual(c.B)) return c.Bc;
        c = new Cached(a.ShapeArray, b.ShapeArray, new Broadcast(a.ShapeArray, b.ShapeArray));
        Volatile.Write(ref _cache, c);
        return c.Bc;
    }

    public override void Forward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1];
        Elementwise.Binary(Kind, BroadcastFor(a, b), a.Data, b.Data, ctx.Outputs[0].Data);
    }

    public override bool HasBackward => true;

    /// <summary>A pure elementwise function of the operands: replayed by the forward pass.</summary>
    public override bool CanReplay => true;

    /// <summary>Add and Sub pass the gradient through (their partials are constants); the others read their operands.</summary>
    public override bool BackwardReadsInput(int input) => Kind is not (BinaryKind.Add or BinaryKind.Sub);

    /// <summary>Every partial is computed from the operands, never from y.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    /// <summary>∂y/∂a and ∂y/∂b at one element.</summary>
    public static (float Da, float Db) Partials(BinaryKind kind, float a, float b) => kind switch
    {
        BinaryKind.Add => (1, 1),
        BinaryKind.Sub => (1, -1),
        BinaryKind.Mul => (b, a),
        BinaryKind.Div => (1 / b, -a / (b * b)),
        BinaryKind.Max => a >= b ? (1, 0) : (0, 1),
        BinaryKind.Min => a <= b ? (1, 0) : (0, 1),
        BinaryKind.PRelu => (a < 0 ? b : 1, a < 0 ? a : 0),
        BinaryKind.Pow => (b * MathF.Pow(a, b - 1), a == 0 ? 0 : MathF.Pow(a, b) * MathF.Log(a)),
        BinaryKind.Equal or BinaryKind.Less or BinaryKind.Greater => (0, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Add's and Sub's backward over one run: ga += g, gb += g (−g for Sub), an operand of stride 0 taking the run's sum.</summary>
    static void AddRun(float[] g, int o, int n, int ia, int sa, int ib, int sb, float[]? ga, float[]? gb, bool sub)
    {
        var gs = g.AsSpan(o, n);
        if (ga != null)
        {
            if (sa == 0) ga[ia] += System.Numerics.Tensors.TensorPrimitives.Sum(gs);
            else System.Numerics.Tensors.TensorPrimitives.Add(ga.AsSpan(ia, n), gs, ga.AsSpan(ia, n));
        }
        if (gb != null)
        {
            if (sb == 0) gb[ib] += sub ? -System.Numerics.Tensors.TensorPrimitives.Sum(gs) : System.Numerics.Tensors.TensorPrimitives.Sum(gs);
            else if (sub) System.Numerics.Tensors.TensorPrimitives.Subtract(gb.AsSpan(ib, n), gs, gb.AsSpan(ib, n));
            else System.Numerics.Tensors.TensorPrimitives.Add(gb.AsSpan(ib, n), gs, gb.AsSpan(ib, n));
        }
    }

    /// <summary>Shortest broadcast run the backward of Mul, Add and Sub takes vectorized.</summary>
    const int VectorRunMin = 16;

    /// <summary>
    /// Mul's backward over one run: ga += g·b and gb += g·a, an operand of stride 0 (one element for the whole run)
    /// taking its gradient as one dot product, a contiguous one elementwise.
    /// </summary>
    static void MulRun(float[] g, int o, int n, float[] ad, int ia, int sa, float[] bd, int ib, int sb, float[]? ga, float[]? gb)
    {
        var gs = g.AsSpan(o, n);
        if (ga != null)
        {
            if (sa == 0) ga[ia] += System.Numerics.Tensors.TensorPrimitives.Dot(gs, bd.AsSpan(ib, n));
            else if (sb == 1) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gs, bd.AsSpan(ib, n), ga.AsSpan(ia, n), ga.AsSpan(ia, n));
            else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gs, bd[ib], ga.AsSpan(ia, n), ga.AsSpan(ia, n));
        }
        if (gb != null)
        {
            if (sb == 0) gb[ib] += System.Numerics.Tensors.TensorPrimitives.Dot(gs, ad.AsSpan(ia, n));
            else if (sa == 1) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gs, ad.AsSpan(ia, n), gb.AsSpan(ib, n), gb.AsSpan(ib, n));
            else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gs, ad[ia], gb.AsSpan(ib, n), gb.AsSpan(ib, n));
        }
    }

    /// <summary>Add and Sub set a fresh operand gradient (g, or −g for Sub's right operand) instead of adding it.</summary>
    public override bool OverwritesInputGrad(int input) => Kind is BinaryKind.Add or BinaryKind.Sub;

    /// <summary>Add's and Sub's operand gradient is g itself (or −g): written over g it costs nothing (or one negation).</summary>
    public override bool BackwardInPlace(int input) => Kind is BinaryKind.Add or BinaryKind.Sub;

    public override void Backward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1];
        var ga = ctx.InputGrads[0]?.Data; var gb = ctx.InputGrads[1]?.Data;
        var g = ctx.OutputGrads[0].Data;
        var ad = a.Data; var bd = b.Data;
        var kind = Kind;
        // Sizes come from the tensors: a plan's buffers may be longer than the values they hold.
        int count = ctx.OutputGrads[0].Length;
        if (kind is BinaryKind.Add or BinaryKind.Sub)
        {
            // An operand gradient written over g (the training plan's in-place buffer) already is g; Sub's right one is
            // negated where it lies. A fresh one of g's size is set, a broadcast one cleared before it is summed into.
            bool setA = ga != null && ctx.IsFresh(0), setB = gb != null && ctx.IsFresh(1);
            if (setA && ReferenceEquals(ga, g)) { ga = null; setA = false; }
            if (setB && ReferenceEquals(gb, g))
            {
                if (kind == BinaryKind.Sub) Threading.Workers.For(count, 1, (s, e) => System.Numerics.Tensors.TensorPrimitives.Negate(g.AsSpan(s, e - s), g.AsSpan(s, e - s)));
                gb = null; setB = false;
            }
            if (setA && a.Length != count) { ctx.InputGrads[0]!.Span.Clear(); setA = false; }
            if (setB && b.Length != count) { ctx.InputGrads[1]!.Span.Clear(); setB = false; }
            if ((ga == null || a.Length == count) && (gb == null || b.Length == count))
            {
                // Same shapes: the gradient passes straight through (negated for Sub's right operand), vectorized.
                Threading.Workers.For(count, 2, (s, e) =>
                {
                    var gs = g.AsSpan(s, e - s);
                    if (ga != null)
                    {
                        if (setA) gs.CopyTo(ga.AsSpan(s, e - s));
                        else System.Numerics.Tensors.TensorPrimitives.Add(ga.AsSpan(s, e - s), gs, ga.AsSpan(s, e - s));
                    }
                    if (gb == null) return;
                    if (kind == BinaryKind.Add && setB) gs.CopyTo(gb.AsSpan(s, e - s));
                    else if (kind == BinaryKind.Add) System.Numerics.Tensors.TensorPrimitives.Add(gb.AsSpan(s, e - s), gs, gb.AsSpan(s, e - s));
                    else if (setB) System.Numerics.Tensors.TensorPrimitives.Negate(gs, gb.AsSpan(s, e - s));
                    else System.Numerics.Tensors.TensorPrimitives.Subtract(gb.AsSpan(s, e - s), gs, gb.AsSpan(s, e - s));
                });
                return;
            }
            // A broadcast run adds into every operand gradient: a fresh one of full size starts from zero too.
            if (setA) ctx.InputGrads[0]!.Span.Clear();
            if (setB) ctx.InputGrads[1]!.Span.Clear();
        }
        BroadcastFor(a, b).ForEachRun((o, ia, ib, n, sa, sb) =>
        {
            // Mul, Add or Sub over a run where one operand or both are contiguous (a scale or bias per channel, a
            // squeeze-excite gate, a bias along rows): vectorized, a broadcast operand's gradient summed once per run.
            if (n >= VectorRunMin && sa <= 1 && sb <= 1 && (sa | sb) == 1)
            {
                if (kind == BinaryKind.Mul) { MulRun(g, o, n, ad, ia, sa, bd, ib, sb, ga, gb); return; }
                if (kind is BinaryKind.Add or BinaryKind.Sub) { AddRun(g, o, n, ia, sa, ib, sb, ga, gb, kind == BinaryKind.Sub); return; }
            }
            // Each run: operand index = base + i·stride (stride 0 = broadcast scalar, accumulated n times).
            for (int i = 0; i < n; i++)
            {
                int xa = ia + i * sa, xb = ib + i * sb;
                var (da, db) = Partials(kind, ad[xa], bd[xb]);
                float gi = g[o + i];
                if (ga != null) ga[xa] += gi * da;
                if (gb != null) gb[xb] += gi * db;
            }
        });
    }
}
