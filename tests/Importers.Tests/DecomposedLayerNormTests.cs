using TransferKit.Tests.Common.Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;

namespace TransferKit.Importers.Tests;

/// <summary>
/// The LayerNorm exporters write out op by op (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) with an
/// erf-form GELU after it: parity with ONNX Runtime (its whole-model gradient check is in the fine-tune tests).
/// </summary>
public class DecomposedLayerNormTests
{
    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    public void MatchesOnnxRuntime(int opset)
    {
        var m = OnnxImporter.Import(TestNets.DecomposedLayerNorm(opset));
        Assert.Contains(m.Graph.Nodes, node => node.Op.Type == "Pow");
        Assert.Contains(m.Graph.Nodes, node => node.Op.Type == "Erf");
        // Only the weights train: the 2, ε, √2, 1 and ½ are constants; gamma and beta are weights.
        Assert.DoesNotContain(m.Graph.Parameters, p => p.Trainable && p.Value.Length == 1);
        Assert.Contains(m.Graph.Parameters, p => p.Trainable && p.Name.StartsWith("gamma"));
        var inputs = Verifier.RandomInputs(m, 2, seed: 5);
        var report = Verifier.Verify(m, inputs);
        Assert.True(report.WithinTolerance, string.Join("; ", report.Outputs.Select(o => $"{o.Name} max_abs {o.MaxAbs:E3} max_rel {o.MaxRel:E3}")));
    }
}
