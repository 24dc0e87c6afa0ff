using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The broadcast driver and vectorized runs against the scalar reference, at every remainder length.</summary>
[Trait("Category", "Kernels")]
public class ElementwiseTests
{
    /// <summary>Division differs from the reference by at most one rounding; the rest are exact.</summary>
    const float RelativeTolerance = 1e-6f;

    static float[] Random(int n, int seed, bool positive = false)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => positive ? (float)(r.NextDouble() + 0.5) : (float)(r.NextDouble() * 4 - 2)).ToArray();
    }

    public static IEnumerable<object[]> Shapes() =>
        new (int[] A, int[] B)[]
        {
            ([7], [7]), ([1], [13]), ([13], [1]), ([2, 3, 4], [3, 1]), ([2, 1, 5], [1, 4, 1]), ([3, 4, 5, 6], [1, 4, 1, 1]),
            ([3, 4, 5, 6], [6]), ([1, 4, 1, 1], [3, 4, 5, 6]), ([2, 3, 1, 7], [2, 1, 5, 1]), ([5, 1], [1, 5]),
        }.SelectMany(p => Enum.GetValues<BinaryKind>().Select(k => new object[] { k, p.A, p.B }));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BroadcastMatchesReference(BinaryKind kind, int[] shapeA, int[] shapeB)
    {
        var a = Random((int)Tensors.Shapes.ElementCount(shapeA), 1, positive: kind == BinaryKind.Pow);
        var b = Random((int)Tensors.Shapes.ElementCount(shapeB), 2, positive: kind is BinaryKind.Div or BinaryKind.Pow);
        var expected = ReferenceElementwise.Binary(kind, shapeA, a, shapeB, b, out var outShape);
        var bc = new Broadcast(shapeA, shapeB);
        Assert.Equal(outShape, bc.OutShape);
        var actual = new float[expected.Length];
        Elementwise.Binary(kind, bc, a, b, actual);
        AssertClose(expected, actual);
    }

    [Fact]
    public void EveryRemainderLengthMatches()
    {
        // Lengths 1..130 cover every tail of 16-lane (Vector512) and 8-lane (Vector256) loops, twice over.
        foreach (var kind in Enum.GetValues<BinaryKind>())
            for (int n = 1; n <= 130; n++)
            {
                var a = Random(n, n, positive: kind == BinaryKind.Pow); var b = Random(n, n + 1000, positive: kind is BinaryKind.Div or BinaryKind.Pow);
                foreach (var (sa, sb) in new[] { (new[] { n }, new[] { n }), (new[] { n }, new[] { 1 }), (new[] { 1 }, new[] { n }) })
                {
                    var x = sa[0] == 1 ? a[..1] : a; var y = sb[0] == 1 ? b[..1] : b;
                    var expected = ReferenceElementwise.Binary(kind, sa, x, sb, y, out _);
                    var actual = new float[expected.Length];
                    Elementwise.Binary(kind, new Broadcast(sa, sb), x, y, actual);
                    AssertClose(expected, actual);
                }
            }
    }

    [Theory]
    [InlineData(2f)]
    [InlineData(3f)]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(-1.5f)]
    public void PowByTheExponentsExportersWriteMatchesTheReferenceAtEveryLength(float exponent)
    {
        // x^2, x^3, x^1 and x^0.5 run as products, a square root or a copy; negative bases for the integer exponents.
        for (int n = 1; n <= 130; n++)
        {
            var a = Random(n, n, positive: exponent is 0.5f or -1.5f);
            var expected = ReferenceElementwise.Binary(BinaryKind.Pow, [n], a, [1], [exponent], out _);
            var actual = new float[n];
            Elementwise.Binary(BinaryKind.Pow, new Broadcast([n], [1]), a, [exponent], actual);
            AssertClose(expected, actual);
        }
    }

    [Fact]
    public void LargeTensorsSplitAcrossThreadsMatch()
    {
        int n = 1 << 20;
        var a = Random(n, 5); var b = Random(n, 6);
        var expected = ReferenceElementwise.Binary(BinaryKind.Mul, [n], a, [n], b, out _);
        var actual = new float[n];
        Elementwise.Binary(BinaryKind.Mul, new Broadcast([n], [n]), a, b, actual);
        AssertClose(expected, actual);
    }

    [Fact]
    public void IncompatibleShapesAreRefused() =>
        Assert.Throws<ShapeException>(() => new Broadcast([2, 3], [4]));

    static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= RelativeTolerance * Math.Abs(expected[i]) || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                $"index {i}: expected {expected[i]}, got {actual[i]}");
    }
}
