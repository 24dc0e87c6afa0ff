namespace TransferKit.FineTune.Tuning;

/// <summary>The dimensions a search explores, in a fixed order (samplers and tables follow it).</summary>
public sealed class SearchSpace
{
    public SearchSpace(IEnumerable<Dimension> dimensions)
    {
        Dimensions = dimensions.ToArray();
        if (Dimensions.Count == 0) throw new ArgumentException("A search space needs at least one dimension.");
        var twice = Dimensions.GroupBy(d => d.Name).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw new ArgumentException($"The search space names '{twice.Key}' twice.");
    }

    public IReadOnlyList<Dimension> Dimensions { get; }

    public Dimension? Find(string name) => Dimensions.FirstOrDefault(d => d.Name == name);

    /// <summary>This space with <paramref name="dimension"/> in place of the one of the same name (or added at the end).</summary>
    public SearchSpace With(Dimension dimension)
    {
        var list = Dimensions.ToList();
        int at = list.FindIndex(d => d.Name == dimension.Name);
        if (at >= 0) list[at] = dimension; else list.Add(dimension);
        return new SearchSpace(list);
    }

    /// <summary>A configuration drawn uniformly (log-uniformly for numbers) with <paramref name="random"/>.</summary>
    public Configuration Sample(Random random)
    {
        var numbers = new Dictionary<string, double>();
        var choices = new Dictionary<string, string>();
        foreach (var d in Dimensions)
        {
            switch (d)
            {
                case LogUniformDimension u: numbers[d.Name] = u.FromUnit(random.NextDouble()); break;
                case CategoricalDimension c: choices[d.Name] = c.Choices[random.Next(c.Choices.Count)]; break;
                default: throw new NotSupportedException($"Dimension type {d.GetType().Name} is not supported.");
            }
        }
        return new Configuration(numbers, choices);
    }

    public string Describe() => string.Join("; ", Dimensions.Select(d => d.Describe()));
}
