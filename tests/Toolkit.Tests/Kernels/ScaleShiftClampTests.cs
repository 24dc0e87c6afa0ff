using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>
/// The one-pass batch-norm map with its Relu or Clip against the scalar definition and against the two passes it
/// replaces (the affine map, then the activation's own Apply and mask), to the bit, at every tail length and bit offset.
/// </summary>
[Trait("Category", "Kernels")]
public class ScaleShiftClampTests
{
    /// <summary>Values that land on and around the bounds after the map, infinities, NaN and signed zeros among random ones.</summary>
    static float[] Values(int n, int seed) =>
        SpecialValues.Mixed(n, seed, [0f, -0f, 6f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon], -6);

    public static IEnumerable<object[]> Activations() =>
        new MaskedUnaryOp[] { new ReluOp(), new ClipOp(0f, 6f), new ClipOp(-1f, 1f), new ClipOp(0f, float.PositiveInfinity) }.Select(op => new object[] { op });

    [Theory]
    [MemberData(nameof(Activations))]
    public void OnePassEqualsTheScalarRuleAndTheTwoPasses(MaskedUnaryOp op)
    {
        var (lo, hi) = op.ClampBounds!.Value;
        var (passLo, passHi) = op.PassInterval;
        foreach (float a in new[] { 1f, -0.75f, 0f })
            foreach (int n in new[] { 1, 7, 8, 9, 15, 16, 17, 31, 49, 196, 1000 })
                foreach (int bit0 in new[] { 0, 1, 3, 8, 13 })
                {
                    var x = Values(n, n + bit0);
                    const float b = 0.25f;
                    var y = new float[n];
                    var mask = Enumerable.Repeat((byte)0xA5, BitMask.Bytes(bit0 + n) + 1).ToArray();
                    var before = mask.ToArray();
                    ScaleShiftClamp.Apply(x, a, b, lo, hi, y, mask, bit0, passLo, passHi);

                    // The two passes: the affine map (product, then sum), then the activation's Apply.
                    var affine = x.Select(v => v * a + b).ToArray();
                    var twoPass = new float[n];
                    op.Apply(affine, twoPass);
                    for (int i = 0; i < n; i++)
                    {
                        float reference = op.Scalar(affine[i]);
                        Assert.True(BitConverter.SingleToInt32Bits(y[i]) == BitConverter.SingleToInt32Bits(twoPass[i]) || float.IsNaN(y[i]) && float.IsNaN(twoPass[i]),
                            $"{op.Describe()} a {a} n {n} element {i}: x {x[i]:G9} → {y[i]:G9}, two passes {twoPass[i]:G9}");
                        // The scalar rule where it is defined alike (Relu's maps NaN to 0, its Apply keeps NaN).
                        if (!float.IsNaN(affine[i]))
                            Assert.True(y[i].Equals(reference), $"{op.Describe()} element {i}: {y[i]:G9}, scalar rule {reference:G9}");
                        bool bit = (mask[(bit0 + i) >> 3] >> ((bit0 + i) & 7) & 1) != 0;
                        Assert.True(bit == BitMask.Passes(twoPass[i], passLo, passHi), $"{op.Describe()} n {n} bit0 {bit0} element {i} = {y[i]:G9}: bit {bit}");
                    }
                    // Bits outside [bit0, bit0 + n) are left as they were.
                    for (int k = 0; k < 8 * mask.Length; k++)
                        if (k < bit0 || k >= bit0 + n)
                            Assert.True((mask[k >> 3] >> (k & 7) & 1) == (before[k >> 3] >> (k & 7) & 1), $"n {n} bit0 {bit0}: bit {k} outside the range changed");
                }
    }

    [Fact]
    public void WithoutAMaskOnlyTheValuesAreWritten()
    {
        var x = Values(100, 3);
        var y = new float[100];
        ScaleShiftClamp.Apply(x, 2f, -1f, 0f, 6f, y);
        for (int i = 0; i < x.Length; i++) Assert.Equal(new ClipOp(0f, 6f).Scalar(x[i] * 2f + -1f), y[i]);
    }

    [Fact]
    public void AMaskThatDoesNotCoverTheBitsIsRefused()
    {
        var x = new float[20];
        Assert.Throws<ArgumentException>(() => ScaleShiftClamp.Apply(x, 1f, 0f, 0f, 6f, new float[20], new byte[3], 5));
    }
}
