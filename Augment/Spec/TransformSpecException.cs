namespace TransferKit.Augment.Spec;

/// <summary>A transform spec that cannot be parsed; the message quotes the spec and the position.</summary>
public sealed class TransformSpecException : FormatException
{
    public TransformSpecException(string spec, int position, string problem)
        : base($"Transform spec error at character {position + 1}: {problem}\n  {spec}\n  {new string(' ', Math.Clamp(position, 0, spec.Length))}^")
    {
        Spec = spec;
        Position = position;
        Problem = problem;
    }

    public string Spec { get; }
    public int Position { get; }
    public string Problem { get; }
}
