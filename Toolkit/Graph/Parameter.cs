using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Graph;

/// <summary>A named weight tensor. <see cref="Trainable"/> decides what the optimizer sees and where backward runs.</summary>
public sealed class Parameter(string name, Tensor value)
{
    public string Name { get; } = name;
    public Tensor Value { get; set; } = value;
    public bool Trainable { get; set; } = true;
    /// <summary>Accumulated gradient (same shape as <see cref="Value"/>), allocated by the trainer.</summary>
    public Tensor? Grad { get; set; }
    public override string ToString() => $"{Name}{Shapes.Format(Value.Shape)}{(Trainable ? "" : " (frozen)")}";
}
