using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>What checking an exported file found.</summary>
public sealed record ExportReport(bool OutputsWithinTolerance, double MaxAbs, double MaxRel, bool WeightsRoundTrip, string? WeightMismatch)
{
    public bool Passed => OutputsWithinTolerance && WeightsRoundTrip;
}

/// <summary>
/// Checks an exported file against the native model it came from: ONNX Runtime on the file must agree with the native
/// outputs within <see cref="Tolerance.Export"/>, and importing the file again must give back the same weights.
/// Given the <see cref="ExportResult"/>, the check follows the export options: a file with baked preprocessing is
/// fed the raw RGB 0–255 images the native inputs came from, and weights the export folded on purpose are left to
/// the output comparison.
/// </summary>
public static class ExportCheck
{
    /// <param name="native">The in-memory graph that was exported.</param>
    /// <param name="exportedFile">The written file.</param>
    /// <param name="inputs">Inputs as the native graph takes them (normalised).</param>
    /// <param name="export">What the exporter returned (null: a plain export).</param>
    public static ExportReport Verify(ComputeGraph native, string exportedFile, IReadOnlyList<Tensor> inputs, ExportResult? export = null)
    {
        // The native run goes on another thread while the file is read back and ONNX Runtime's session is built.
        var nativeRun = Task.Run(() => new ExecutionPlan(native, inputs.Select(t => t.ShapeArray).ToArray()).Run(inputs).Select(t => t.Clone()).ToArray());
        var exported = OnnxImporter.Import(exportedFile);
        Tensor[] expected;
        Dictionary<string, Tensor> actual;
        using (var ort = new OrtReference(exported))
        {
            var fed = export?.Options.BakePreprocess is { } baked ? [baked.Unnormalize(inputs[0]), .. inputs.Skip(1)] : inputs;
            actual = ort.Run(fed);
            expected = nativeRun.GetAwaiter().GetResult();
        }
        double maxAbs = 0, maxRel = 0; bool within = true;
        for (int o = 0; o < exported.Outputs.Count; o++)
        {
            var a = actual[exported.Outputs[o].Name];
            var c = a.Length == expected[o].Length ? Tolerance.Export.Compare(expected[o].Span, a.Span) : new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
            maxAbs = Math.Max(maxAbs, c.MaxAbs); maxRel = Math.Max(maxRel, c.MaxRel); within &= c.Within;
        }
        string? mismatch = null;
        var back = exported.Graph.Parameters.ToDictionary(p => p.Name);
        var skip = export?.RewrittenParameters ?? new HashSet<string>();
        foreach (var p in native.Parameters.Where(p => !skip.Contains(p.Name)))
        {
            if (!back.TryGetValue(p.Name, out var q)) { mismatch = $"parameter '{p.Name}' is missing from the exported file"; break; }
            if (!p.Value.Shape.SequenceEqual(q.Value.Shape) || !p.Value.Span.SequenceEqual(q.Value.Span)) { mismatch = $"parameter '{p.Name}' differs after export"; break; }
        }
        return new ExportReport(within, maxAbs, maxRel, mismatch == null, mismatch);
    }
}
