using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common.Onnx;

namespace TransferKit.Importers.Tests;

/// <summary>
/// ConvTranspose against ONNX Runtime on random inputs and weights: groups, strides, pads, output_padding, dilations,
/// output_shape, auto_pad, with and without bias, 1-D and 2-D.
/// </summary>
public class ConvTransposeParityTests
{
    public static IEnumerable<object[]> Cases() =>
    [
        // cin, cout, k, stride, pad, outPad, dilation, group, bias
        [4, 6, 3, 1, 0, 0, 1, 1, true],
        [4, 6, 2, 2, 0, 0, 1, 1, false],
        [4, 6, 3, 2, 1, 1, 1, 1, true],
        [6, 6, 3, 2, 1, 0, 1, 3, true],
        [6, 6, 3, 1, 1, 0, 1, 6, false],
        [4, 8, 3, 3, 2, 2, 1, 2, true],
        [4, 6, 3, 1, 2, 0, 2, 1, true],
        [4, 6, 3, 2, 1, 1, 2, 2, true],
        [4, 6, 4, 2, 1, 0, 1, 1, true],
    ];

    static AttributeProto Pads(int p) => ModelBuilder.Ints("pads", p, p, p, p);

    static void AssertMatchesOrt(string path, string what)
    {
        var m = OnnxImporter.Import(path);
        foreach (var batch in new[] { 1, 3 })
        {
            var r = Verifier.Verify(m, Verifier.RandomInputs(m, batch, seed: 2), perNode: false);
            Assert.True(r.WithinTolerance, $"{what} batch {batch}: max_abs {r.MaxAbs:E3} max_rel {r.MaxRel:E3}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvTransposeMatchesOnnxRuntime(int cin, int cout, int k, int stride, int pad, int outPad, int dilation, int group, bool bias)
    {
        const int h = 7, w = 6;
        var n = new NetBuilder(13, weightsAsConstants: false, seed: cin * 31 + k);
        var wt = n.Tensor("w", [cin, cout / group, k, k], n.Gaussian(cin * (cout / group) * k * k, 0.3));
        string[] inputs = bias ? ["x", wt, n.Tensor("b", [cout], n.Gaussian(cout, 0.5))] : ["x", wt];
        var y = n.Op("ConvTranspose", inputs, ModelBuilder.Ints("kernel_shape", k, k), ModelBuilder.Ints("strides", stride, stride),
            Pads(pad), ModelBuilder.Ints("output_padding", outPad, outPad), ModelBuilder.Ints("dilations", dilation, dilation), ModelBuilder.Int("group", group));
        long O(int i) => stride * (i - 1) + outPad + (k - 1) * dilation + 1 - 2 * pad;
        var path = n.Save("x", [-1, cin, h, w], y, [-1, cout, O(h), O(w)]);
        AssertMatchesOrt(path, $"ConvTranspose k{k} s{stride} p{pad} op{outPad} d{dilation} g{group}");
    }

    [Theory]
    [InlineData("SAME_UPPER", 2, 3)]
    [InlineData("SAME_LOWER", 2, 3)]
    [InlineData("SAME_UPPER", 2, 4)]
    [InlineData("VALID", 2, 3)]
    public void AutoPadMatchesOnnxRuntime(string autoPad, int stride, int k)
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed: k);
        var wt = n.Tensor("w", [3, 4, k, k], n.Gaussian(3 * 4 * k * k, 0.3));
        var y = n.Op("ConvTranspose", ["x", wt], ModelBuilder.Ints("kernel_shape", k, k), ModelBuilder.Ints("strides", stride, stride),
            new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(autoPad) });
        long o = autoPad == "VALID" ? stride * 4 + k : 5 * stride;
        AssertMatchesOrt(n.Save("x", [-1, 3, 5, 5], y, [-1, 4, o, o]), $"ConvTranspose auto_pad {autoPad} k{k} s{stride}");
    }

    /// <summary>output_shape below, at and above the natural 11×13: the pads come from it, split as auto_pad says.</summary>
    [Theory]
    [InlineData(10, 10, "NOTSET")]
    [InlineData(11, 12, "NOTSET")]
    [InlineData(12, 14, "NOTSET")]
    [InlineData(10, 10, "SAME_UPPER")]
    [InlineData(10, 10, "SAME_LOWER")]
    public void OutputShapeMatchesOnnxRuntime(int oh, int ow, string autoPad)
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed: oh);
        var wt = n.Tensor("w", [3, 2, 3, 3], n.Gaussian(3 * 2 * 9, 0.3));
        var attrs = new List<AttributeProto> { ModelBuilder.Ints("kernel_shape", 3, 3), ModelBuilder.Ints("strides", 2, 2), ModelBuilder.Ints("output_shape", oh, ow) };
        if (autoPad != "NOTSET")
            attrs.Add(new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(autoPad) });
        var y = n.Op("ConvTranspose", ["x", wt], attrs.ToArray());
        AssertMatchesOrt(n.Save("x", [-1, 3, 5, 6], y, [-1, 2, oh, ow]), $"ConvTranspose output_shape {oh}×{ow} {autoPad}");
    }

    [Fact]
    public void OneDimensionalMatchesOnnxRuntime()
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed: 9);
        var wt = n.Tensor("w", [4, 3, 3], n.Gaussian(4 * 3 * 3, 0.3));
        var y = n.Op("ConvTranspose", ["x", wt, n.Tensor("b", [3], n.Gaussian(3, 0.5))], ModelBuilder.Ints("kernel_shape", 3),
            ModelBuilder.Ints("strides", 2), ModelBuilder.Ints("pads", 1, 0), ModelBuilder.Ints("output_padding", 1));
        AssertMatchesOrt(n.Save("x", [-1, 4, 9], y, [-1, 3, 2 * 8 + 1 + 3 - 1]), "ConvTranspose 1-D");
    }
}
