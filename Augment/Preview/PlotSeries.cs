namespace TransferKit.Augment.Preview;

/// <summary>One line of a <see cref="LinePlot"/>: its legend label, points and colour (0xRRGGBB).</summary>
public sealed record PlotSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, uint Color);
