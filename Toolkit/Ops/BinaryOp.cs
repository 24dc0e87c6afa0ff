using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Base of the two-operand elementwise ops with numpy broadcasting.</summary>
public abstract class BinaryOp(BinaryKind kind) : Op
{
    Broadcast? _bc;
    public BinaryKind Kind { get; } = kind;

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [Shapes.Broadcast(inputs[0], inputs[1])];

    protected Broadcast BroadcastFor(Tensor a, Tensor b)
    {
        var bc = _bc;
        if (bc == null || !Same(bc, a, b)) _bc = bc = new Broadcast(a.Shape, b.Shape) { };
        return bc;
    }

    // The cached broadcast is keyed on both input shapes.
    int[]? _shapeA, _shapeB;
    bool Same(Broadcast bc, Tensor a, Tensor b)
    {
        if (_shapeA != null && a.Shape.SequenceEqual(_shapeA) && b.Shape.SequenceEqual(_shapeB)) return true;
        _shapeA = a.ShapeArray; _shapeB = b.ShapeArray;
        return false;
    }

    public override void Forward(OpContext ctx)
    {
        var a = ctx.Inputs[0]; var b = ctx.Inputs[1];
        Elementwise.Binary(Kind, BroadcastFor(a, b), a.Data, b.Data, ctx.Outputs[0].Data);
    }
}
