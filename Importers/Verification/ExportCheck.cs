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
/// </summary>
public static class ExportCheck
{
    public static ExportReport Verify(ComputeGraph native, string exportedFile, IReadOnlyList<Tensor> inputs)
    {
        var expected = new ExecutionPlan(native, inputs.Select(t => t.ShapeArray).ToArray()).Run(inputs).Select(t => t.Clone()).ToArray();
        var exported = OnnxImporter.Import(exportedFile);
        using var ort = new OrtReference(exported);
        var actual = ort.Run(inputs);
        double maxAbs = 0, maxRel = 0; bool within = true;
        for (int o = 0; o < exported.Outputs.Count; o++)
        {
            var a = actual[exported.Outputs[o].Name];
            var c = a.Length == expected[o].Length ? Tolerance.Export.Compare(expected[o].Span, a.Span) : new Comparison(double.PositiveInfinity, double.PositiveInfinity, false, -1);
            maxAbs = Math.Max(maxAbs, c.MaxAbs); maxRel = Math.Max(maxRel, c.MaxRel); within &= c.Within;
        }
        string? mismatch = null;
        var back = exported.Graph.Parameters.ToDictionary(p => p.Name);
        foreach (var p in native.Parameters)
        {
            if (!back.TryGetValue(p.Name, out var q)) { mismatch = $"parameter '{p.Name}' is missing from the exported file"; break; }
            if (!p.Value.Shape.SequenceEqual(q.Value.Shape) || !p.Value.Span.SequenceEqual(q.Value.Span)) { mismatch = $"parameter '{p.Name}' differs after export"; break; }
        }
        return new ExportReport(within, maxAbs, maxRel, mismatch == null, mismatch);
    }
}
