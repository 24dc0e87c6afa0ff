using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common.Onnx;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Flatten at every axis of a batched map, at batch 1 and 3, against ONNX Runtime: with axis 0 the output is
/// [1, N·C·H·W] — its leading 1 is not the batch — and with axis 1 [N, C·H·W].
/// </summary>
public class FlattenParityTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void FlattenMatchesOnnxRuntime(int axis)
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed: 3 + axis);
        var conv = n.Op("Relu", [n.Conv("image", 3, 4, 3, bias: true)]);
        var flat = n.Op("Flatten", [conv], ModelBuilder.Int("axis", axis));
        var m = OnnxImporter.Import(n.Save("image", [-1, 3, 6, 5], flat, axis == 0 ? [1, -1] : [-1, -1]));
        foreach (var batch in new[] { 1, 3 })
        {
            var r = Verifier.Verify(m, Verifier.RandomInputs(m, batch, seed: 2), perNode: false);
            Assert.True(r.WithinTolerance, $"axis {axis}, batch {batch}: max_abs {r.MaxAbs:E3} max_rel {r.MaxRel:E3}");
            int[] dims = [batch, 4, 6, 5];
            int lead = dims.Take(axis).Aggregate(1, (p, d) => p * d), rest = dims.Skip(axis).Aggregate(1, (p, d) => p * d);
            Assert.Equal([lead, rest], r.Outputs[0].Shape);
        }
    }
}
