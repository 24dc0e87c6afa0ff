namespace TransferKit.FineTune.Tuning;

/// <summary>One axis of a search space: a name (the fine-tune setting it drives, e.g. "lr") and the values it may take.</summary>
public abstract class Dimension(string name)
{
    public string Name { get; } = name;

    /// <summary>Whether the dimension holds a single value (nothing to search).</summary>
    public abstract bool IsFixed { get; }

    /// <summary>How the dimension is written in tables and messages ("lr 1e-4:1e-1", "batch {16, 32}").</summary>
    public abstract string Describe();
}
