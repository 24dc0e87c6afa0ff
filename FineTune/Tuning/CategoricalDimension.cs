namespace TransferKit.FineTune.Tuning;

/// <summary>An unordered choice among named values (batch size, augmentation level, freeze depth).</summary>
public sealed class CategoricalDimension : Dimension
{
    public CategoricalDimension(string name, IEnumerable<string> choices) : base(name)
    {
        Choices = choices.Select(c => c.Trim()).ToArray();
        if (Choices.Count == 0) throw new ArgumentException($"{name}: give at least one value to choose from.");
        var twice = Choices.GroupBy(c => c, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw new ArgumentException($"{name}: '{twice.Key}' is listed twice.");
        if (Choices.Any(string.IsNullOrEmpty)) throw new ArgumentException($"{name}: an empty value in the list.");
    }

    public IReadOnlyList<string> Choices { get; }

    public override bool IsFixed => Choices.Count == 1;

    /// <summary>The index of a choice, or -1.</summary>
    public int IndexOf(string choice)
    {
        for (int i = 0; i < Choices.Count; i++) if (string.Equals(Choices[i], choice, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    public override string Describe() => $"{Name} {{{string.Join(", ", Choices)}}}";
}
