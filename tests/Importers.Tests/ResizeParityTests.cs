using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common.Onnx;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Resize (opsets 10–19) and Upsample (7–9) against ONNX Runtime on random inputs, over the modes, coordinate
/// transforms, nearest roundings and the scales and sizes forms the conformance data does not cover at every opset.
/// Upsampling and downsampling both; scales are chosen so in·scale is a whole number (where ONNX Runtime and the
/// specification agree on align_corners).
/// </summary>
public class ResizeParityTests
{
    const int H = 6, W = 5;

    static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>Scales [1, 1, sh, sw] (or sizes [N?, C, oh, ow]) of an up- and a downsampling.</summary>
    public static readonly (float H, float W)[] ScalePairs = [(2f, 3f), (0.5f, 0.6f)];

    public static IEnumerable<object[]> ResizeCases()
    {
        foreach (var opset in new[] { 11, 13, 18, 19 })
            foreach (var (mode, coords) in new[]
            {
                ("nearest", "asymmetric"), ("nearest", "half_pixel"), ("nearest", "align_corners"), ("nearest", "pytorch_half_pixel"),
                ("linear", "asymmetric"), ("linear", "half_pixel"), ("linear", "align_corners"), ("linear", "pytorch_half_pixel"),
            })
                foreach (var sizes in new[] { false, true })
                    foreach (var pair in new[] { 0, 1 })
                        yield return [opset, mode, coords, mode == "nearest" ? "round_prefer_floor" : "", sizes, pair];
        // Every nearest rounding at one opset.
        foreach (var rounding in new[] { "round_prefer_ceil", "floor", "ceil" })
            foreach (var coords in new[] { "asymmetric", "half_pixel" })
                yield return [13, "nearest", coords, rounding, false, 0];
    }

    static ImportedModel Build(NetBuilder n, string y, long[] outDims)
    {
        var path = n.Save("x", [-1, 2, H, W], y, outDims);
        return OnnxImporter.Import(path);
    }

    static void AssertMatchesOrt(ImportedModel m, string what, int[]? batches = null)
    {
        foreach (var batch in batches ?? [1, 3])
        {
            var r = Verifier.Verify(m, Verifier.RandomInputs(m, batch, seed: 5), perNode: false);
            Assert.True(r.WithinTolerance, $"{what} batch {batch}: max_abs {r.MaxAbs:E3} max_rel {r.MaxRel:E3}");
        }
    }

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void ResizeMatchesOnnxRuntime(int opset, string mode, string coords, string rounding, bool sizes, int pair)
    {
        var n = new NetBuilder(opset, weightsAsConstants: false, seed: opset);
        if (opset >= 19) n.B.Model.IrVersion = 9;
        var (sh, sw) = ScalePairs[pair];
        int oh = (int)Math.Floor(H * sh), ow = (int)Math.Floor(W * sw);
        var attrs = new List<AttributeProto> { Str("mode", mode), Str("coordinate_transformation_mode", coords) };
        if (rounding != "") attrs.Add(Str("nearest_mode", rounding));
        bool axes = opset >= 18 && pair == 1;
        if (axes) attrs.Add(ModelBuilder.Ints("axes", 2, 3));
        string roi = opset < 13 ? n.Tensor("roi", [0], []) : "";
        string[] inputs;
        if (sizes)
        {
            // Sizes name every axis (or, with axes, the spatial ones). Sizes of every axis fix the batch (1 here), so
            // that form is compared at batch 1.
            var s = axes ? n.Longs("sizes", [oh, ow]) : n.Longs("sizes", [1, 2, oh, ow]);
            inputs = [ "x", roi, opset < 13 ? n.Tensor("scales", [0], []) : "", s ];
            if (!axes) { attrs.RemoveAll(a => a.Name == "axes"); }
        }
        else
        {
            var s = axes ? n.Tensor("scales", [2], [sh, sw]) : n.Tensor("scales", [4], [1, 1, sh, sw]);
            inputs = ["x", roi, s];
        }
        var y = n.Op("Resize", inputs, attrs.ToArray());
        var m = Build(n, y, [-1, 2, oh, ow]);
        AssertMatchesOrt(m, $"Resize-{opset} {mode} {coords} {rounding} {(sizes ? "sizes" : "scales")} {sh}×{sw}", sizes && !axes ? [1] : null);
    }

    [Theory]
    [InlineData(10, "nearest", 0)]
    [InlineData(10, "nearest", 1)]
    [InlineData(10, "linear", 0)]
    [InlineData(10, "linear", 1)]
    public void Resize10MatchesOnnxRuntime(int opset, string mode, int pair)
    {
        var n = new NetBuilder(opset, weightsAsConstants: false, seed: 3);
        var (sh, sw) = ScalePairs[pair];
        var y = n.Op("Resize", ["x", n.Tensor("scales", [4], [1, 1, sh, sw])], Str("mode", mode));
        AssertMatchesOrt(Build(n, y, [-1, 2, (int)(H * sh), (int)(W * sw)]), $"Resize-10 {mode} {sh}×{sw}");
    }

    [Theory]
    [InlineData(7, "nearest")]
    [InlineData(7, "linear")]
    [InlineData(8, "nearest")]
    [InlineData(8, "linear")]
    [InlineData(9, "nearest")]
    [InlineData(9, "linear")]
    public void UpsampleMatchesOnnxRuntime(int opset, string mode)
    {
        var n = new NetBuilder(opset, weightsAsConstants: false, seed: 4);
        float[] scales = [1, 1, 2, 3];
        var y = opset < 9
            ? n.Op("Upsample", ["x"], Str("mode", mode), new AttributeProto { Name = "scales", Type = AttributeProto.Types.AttributeType.Floats, Floats = { scales } })
            : n.Op("Upsample", ["x", n.Tensor("scales", [4], scales)], Str("mode", mode));
        AssertMatchesOrt(Build(n, y, [-1, 2, H * 2, W * 3]), $"Upsample-{opset} {mode}");
    }
}
