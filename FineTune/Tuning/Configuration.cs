namespace TransferKit.FineTune.Tuning;

/// <summary>One point of a search space: a number for each log-uniform dimension and a choice for each categorical one.</summary>
public sealed class Configuration
{
    readonly Dictionary<string, double> _numbers;
    readonly Dictionary<string, string> _choices;

    public Configuration(IReadOnlyDictionary<string, double> numbers, IReadOnlyDictionary<string, string> choices)
    {
        _numbers = new Dictionary<string, double>(numbers, StringComparer.Ordinal);
        _choices = new Dictionary<string, string>(choices, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, double> Numbers => _numbers;
    public IReadOnlyDictionary<string, string> Choices => _choices;

    public double Number(string name) => _numbers.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"The configuration has no number '{name}'.");

    public string Choice(string name) => _choices.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"The configuration has no choice '{name}'.");

    /// <summary>The value of a dimension as text (numbers with up to 4 significant digits, as 0.0151 or 1.05e-06).</summary>
    public string Format(string name) =>
        _numbers.TryGetValue(name, out var v) ? LogUniformDimension.Format(v) : _choices.TryGetValue(name, out var c) ? c : "";

    /// <summary>"name=value" pairs in the space's order.</summary>
    public string Describe(SearchSpace space) => string.Join(" ", space.Dimensions.Select(d => $"{d.Name}={Format(d.Name)}"));

    /// <summary>Whether every value lies inside its dimension (log-uniform ends included, choices by name).</summary>
    public bool IsInside(SearchSpace space) => space.Dimensions.All(d => d switch
    {
        LogUniformDimension u => _numbers.TryGetValue(d.Name, out var x) && x >= u.Low * (1 - 1e-12) && x <= u.High * (1 + 1e-12),
        CategoricalDimension c => _choices.TryGetValue(d.Name, out var s) && c.IndexOf(s) >= 0,
        _ => false,
    });
}
