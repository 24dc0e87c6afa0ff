using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// A named tensor the graph holds: a weight (<see cref="Trainable"/> decides what the optimizer sees and where
/// backward runs) or a constant operand (<see cref="IsConstant"/>: the 3 and 6 of a written-out hard-swish, a scalar
/// epsilon), which is never trained whatever the freeze rules say.
/// </summary>
public sealed class Parameter(string name, Tensor value)
{
    bool _trainable = true;

    public string Name { get; } = name;
    public Tensor Value { get; set; } = value;

    /// <summary>Whether the tensor trains. Always false for a constant; setting it true on one has no effect.</summary>
    public bool Trainable
    {
        get => _trainable && !IsConstant;
        set => _trainable = value;
    }

    /// <summary>A constant operand rather than a weight: not trained, not counted among the parameters.</summary>
    public bool IsConstant { get; set; }

    /// <summary>Accumulated gradient (same shape as <see cref="Value"/>), allocated by the trainer.</summary>
    public Tensor? Grad { get; set; }
    public override string ToString() => $"{Name}{Shapes.Format(Value.Shape)}{(IsConstant ? " (constant)" : Trainable ? "" : " (frozen)")}";
}
