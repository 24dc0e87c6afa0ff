namespace TransferKit.FineTune.Tuning;

/// <summary>
/// Every combination of the dimensions' values, the last dimension changing fastest. A log-uniform dimension contributes
/// <see cref="PointsPerRange"/> log-spaced values from its low to its high end; a categorical one all its choices.
/// </summary>
public sealed class GridSampler : ISampler
{
    readonly SearchSpace _space;
    readonly IReadOnlyList<object>[] _axes;
    int _next;

    public GridSampler(SearchSpace space, int pointsPerRange = 3)
    {
        _space = space;
        PointsPerRange = pointsPerRange;
        _axes = space.Dimensions.Select(d => d switch
        {
            LogUniformDimension u => (IReadOnlyList<object>)u.GridValues(pointsPerRange).Cast<object>().ToArray(),
            CategoricalDimension c => c.Choices.Cast<object>().ToArray(),
            _ => throw new NotSupportedException($"Dimension type {d.GetType().Name} is not supported."),
        }).ToArray();
        Size = _axes.Aggregate(1L, (n, a) => n * a.Count);
    }

    public int PointsPerRange { get; }

    /// <summary>How many configurations the grid holds.</summary>
    public long Size { get; }

    /// <summary>The <paramref name="index"/>-th configuration of the grid (mixed-radix digits, last dimension fastest).</summary>
    public Configuration At(long index)
    {
        if (index < 0 || index >= Size) throw new ArgumentOutOfRangeException(nameof(index), $"The grid has {Size} points.");
        var numbers = new Dictionary<string, double>();
        var choices = new Dictionary<string, string>();
        for (int d = _axes.Length - 1; d >= 0; d--)
        {
            var axis = _axes[d];
            var value = axis[(int)(index % axis.Count)];
            index /= axis.Count;
            if (value is double x) numbers[_space.Dimensions[d].Name] = x;
            else choices[_space.Dimensions[d].Name] = (string)value;
        }
        return new Configuration(numbers, choices);
    }

    public Configuration? Next(IReadOnlyList<Observation> history) => _next < Size ? At(_next++) : null;
}
