using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Base of the two-operand elementwise ops with numpy broadcasting. Backward adds each operand's partial derivative
/// times the output gradient, summed over the dimensions the operand was broadcast along.
/// </summary>
public abstract class BinaryOp(BinaryKind kind) : Op
{
    Broadcast? _bc;
    int[]? _shapeA, _shapeB;

    public BinaryKind Kind { get; } = kind;

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Shapes.Broadcast(inputs[0], inputs[1])];

    /// <summary>The broadcast for these operand shapes (cached for the last pair seen).</summary>
    protected Broadcast BroadcastFor(Tensor a, Tensor b)
    {
        if (_bc == null || !a.Shape.SequenceEqual(_shapeA) || !b.Shape.SequenceEqual(_shapeB))
        {
            _shapeA = a.ShapeArray; _shapeB = b.ShapeArray;
            _bc = new Broadcast(_shapeA, _shapeB);
        }
        return _bc;
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

    public override void Backward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1];
        var ga = ctx.InputGrads[0]?.Data; var gb = ctx.InputGrads[1]?.Data;
        var g = ctx.OutputGrads[0].Data;
        var ad = a.Data; var bd = b.Data;
        var kind = Kind;
        if (kind is BinaryKind.Add or BinaryKind.Sub && a.Length == g.Length && b.Length == g.Length)
        {
            // Same shapes: the gradient passes straight through (negated for Sub's right operand), vectorized.
            Threading.Workers.For(g.Length, 2, (s, e) =>
            {
                var gs = g.AsSpan(s, e - s);
                if (ga != null) System.Numerics.Tensors.TensorPrimitives.Add(ga.AsSpan(s, e - s), gs, ga.AsSpan(s, e - s));
                if (gb == null) return;
                if (kind == BinaryKind.Add) System.Numerics.Tensors.TensorPrimitives.Add(gb.AsSpan(s, e - s), gs, gb.AsSpan(s, e - s));
                else System.Numerics.Tensors.TensorPrimitives.Subtract(gb.AsSpan(s, e - s), gs, gb.AsSpan(s, e - s));
            });
            return;
        }
        BroadcastFor(a, b).ForEachRun((o, ia, ib, n, sa, sb) =>
        {
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
