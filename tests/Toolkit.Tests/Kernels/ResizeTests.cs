using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The table-driven Resize kernels against the per-element specification loop.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class ResizeTests
{
    /// <summary>
    /// Linear mode's forward: four products of weights in [0, 1] summing to 1 and values in ±1, in float32 against
    /// double. The backward's bound (both modes) grows with the terms an input element adds up, see the test.
    /// </summary>
    const double LinearTolerance = 1e-5;

    public static IEnumerable<object[]> Cases()
    {
        var coords = new[] { ResizeCoordinates.Asymmetric, ResizeCoordinates.HalfPixel, ResizeCoordinates.PytorchHalfPixel, ResizeCoordinates.AlignCorners, ResizeCoordinates.TfHalfPixelForNearest };
        var roundings = new[] { ResizeRounding.RoundPreferFloor, ResizeRounding.RoundPreferCeil, ResizeRounding.Floor, ResizeRounding.Ceil, ResizeRounding.Simple };
        var shapes = new (int[] X, float[] Scales)[]
        {
            ([2, 3, 5, 7], [1, 1, 2, 2]),
            ([1, 2, 6, 9], [1, 1, 0.5f, 0.34f]),
            ([2, 2, 4, 5], [1, 1, 1.5f, 2.7f]),
            ([1, 2, 20, 20], [1, 1, 4, 4]),                  // PP-OCRv4's ×4 and ×8 nearest upsampling
            ([3, 40, 33], [1, 1.3f, 0.7f]),                  // rank 3
            ([2, 7], [1.5f, 0.6f]),                          // rank 2: no leading axes
        };
        foreach (var (x, s) in shapes)
        {
            foreach (var c in coords)
                foreach (var r in roundings)
                    yield return [ResizeMode.Nearest, c, r, x, s, null!];
            foreach (var c in coords.Where(c => c != ResizeCoordinates.TfHalfPixelForNearest))
                yield return [ResizeMode.Linear, c, ResizeRounding.RoundPreferFloor, x, s, null!];
        }
        // Sizes instead of scales (the coordinate scale then is out/in).
        foreach (var c in coords.Take(4))
        {
            yield return [ResizeMode.Linear, c, ResizeRounding.RoundPreferFloor, new[] { 2, 3, 7, 5 }, null!, new[] { 0, 3, 11, 3 }];
            yield return [ResizeMode.Nearest, c, ResizeRounding.RoundPreferCeil, new[] { 2, 3, 7, 5 }, null!, new[] { 0, 5, 4, 9 }];
        }
        // Nearest on the channel axis too: leading axes that do not map each plane to itself.
        yield return [ResizeMode.Nearest, ResizeCoordinates.Asymmetric, ResizeRounding.Floor, new[] { 2, 3, 4, 4 }, new[] { 1, 2f, 2, 0.5f }, null!];
        yield return [ResizeMode.Nearest, ResizeCoordinates.HalfPixel, ResizeRounding.RoundPreferFloor, new[] { 3, 4, 4, 4 }, new[] { 0.67f, 0.5f, 1, 1 }, null!];
    }

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    static ResizeGeometry Geometry(ResizeMode mode, ResizeCoordinates c, ResizeRounding r, int[] x, float[]? scales, int[]? sizes) =>
        new ResizeOp(mode, c, r, scales, sizes).Geometry(x);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackwardMatchReference(ResizeMode mode, ResizeCoordinates c, ResizeRounding r, int[] x, float[]? scales, int[]? sizes)
    {
        var g = Geometry(mode, c, r, x, scales, sizes);
        var t = Resize.Build(g);
        var input = Random(g.InputLength, 1);
        var expected = new float[g.OutputLength];
        var actual = Enumerable.Repeat(float.NaN, (int)g.OutputLength).ToArray();   // set, not added
        ReferenceResize.Forward(g, input, expected);
        Resize.Forward(g, t, input, actual);
        var dy = Random(g.OutputLength, 2);
        var dxExpected = Random(g.InputLength, 3); var dxActual = (float[])dxExpected.Clone();
        ReferenceResize.Backward(g, dy, dxExpected);
        Resize.Backward(g, t, dy, dxActual);
        // An input element is read by at most (scale + 2) outputs per axis, each adding a weight in [0, 1] times dy in
        // ±1: the kernel adds them in float32 one by one, the reference in double.
        double backBound = LinearTolerance * (2 + g.Scales[^1]) * (2 + g.Scales[^2]);
        if (mode == ResizeMode.Nearest)
            Assert.Equal(expected, actual);   // a gather: the very same values
        else
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= LinearTolerance, $"{g} y at {i}: expected {expected[i]}, got {actual[i]}");
        for (int i = 0; i < dxExpected.Length; i++)
            Assert.True(Math.Abs(dxExpected[i] - dxActual[i]) <= backBound, $"{g} dx at {i}: expected {dxExpected[i]}, got {dxActual[i]}");
    }

    [Fact]
    public void TfCropAndResizeExtrapolatesOutsideTheRegion()
    {
        // A region reaching past the input on both axes: those outputs take the extrapolation value, in both kernels.
        var op = new ResizeOp(ResizeMode.Linear, ResizeCoordinates.TfCropAndResize, ResizeRounding.RoundPreferFloor, null, [0, 0, 5, 6],
            [0, 0, -0.2f, 0.4f, 1, 1, 0.9f, 1.3f], extrapolationValue: 7.5f);
        var g = op.Geometry([1, 2, 4, 5]);
        var input = Random(g.InputLength, 4);
        var expected = new float[g.OutputLength]; var actual = new float[g.OutputLength];
        ReferenceResize.Forward(g, input, expected);
        Resize.Forward(g, Resize.Build(g), input, actual);
        Assert.Contains(7.5f, expected);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= LinearTolerance, $"y at {i}: expected {expected[i]}, got {actual[i]}");
    }
}
