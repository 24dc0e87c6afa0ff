using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The few-channel direct convolution (first layers on RGB) against the plain loop, and when it is chosen.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class FewChannelConv2DTests
{
    /// <summary>Error relative to Σ|x·w| of the output element (float32 fused multiply-adds in r order against the reference's sum).</summary>
    const double RelativeToMagnitude = 2e-6;

    public static IEnumerable<object[]> Geometries() => new Conv2DGeometry[]
    {
        new(2, 3, 31, 33, 64, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1),   // SqueezeNet's conv1: 27 rows, 15×16 outputs (a partial vector)
        new(3, 3, 20, 21, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),   // MobileNetV2's first layer, padded
        new(1, 3, 9, 40, 12, 3, 3, 1, 1, 1, 1, 2, 0, 1, 3, 1),    // 12 filters: one block of 8, then 4 one by one; asymmetric pads
        new(2, 1, 17, 19, 8, 5, 5, 1, 2, 1, 1, 2, 2, 2, 2, 1),    // one channel, 5×5: 25 rows
        new(1, 2, 6, 5, 9, 3, 1, 3, 1, 1, 1, 0, 1, 0, 1, 1),      // 3×1 kernel, stride 3: fewer outputs than a vector
        new(4, 3, 12, 70, 16, 2, 3, 2, 3, 1, 1, 1, 1, 0, 2, 1),   // wide rows, uneven strides
        new(2, 3, 23, 75, 12, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1),   // ResNet's 7×7 stride-2 stem: 147 rows, 38 outputs a row
        new(2, 3, 24, 74, 16, 7, 7, 2, 2, 1, 1, 2, 3, 4, 1, 1),   // stride 2, even width, uneven pads: taps shifted both ways in both halves
        new(1, 2, 11, 35, 8, 4, 3, 1, 2, 1, 1, 3, 2, 0, 5, 1),    // stride 1 down, 2 along; left pad past the kernel's reach, wide right pad
        new(2, 3, 13, 41, 8, 5, 5, 3, 1, 1, 1, 4, 4, 4, 4, 1),    // stride 1 along, 3 down (ring rows skipped), pads as wide as the kernel
        new(1, 4, 7, 9, 8, 2, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),      // four channels, 2×3, rows shorter than a vector
    }.Select(g => new object[] { g });

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesReferenceOnAnyThreadCount(Conv2DGeometry g)
    {
        Assert.True(FewChannelConv2D.Applies(g));
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.Rows, 2);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        int saved = Threading.Workers.MaxThreads;
        try
        {
            foreach (var bias in new[] { Random(g.OutChannels, 3), [] })
            {
                var expected = new float[outLen];
                ReferenceConv2D.Forward(g, x, w, bias, expected);
                float[]? first = null;
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Threading.Workers.MaxThreads = threads;
                    var actual = new float[outLen];
                    Array.Fill(actual, float.NaN);   // every output element is written
                    Conv2D.Forward(g, x, w, bias, actual, new float[Conv2D.WorkspaceLength(g)]);
                    double bound = RelativeToMagnitude * (1 + g.Rows);
                    for (int i = 0; i < outLen; i++)
                        Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g}, {threads} threads, bias {bias.Length > 0}, at {i}: expected {expected[i]}, got {actual[i]}");
                    if (first == null) first = actual;
                    else Assert.Equal(first, actual);   // each element is one chain of fused multiply-adds: the same on any thread count
                }
            }
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }

    [Fact]
    public void OnlyFewRowsManyFiltersUngroupedUndilatedLayersTakeIt()
    {
        Assert.True(FewChannelConv2D.Applies(new(1, 3, 16, 16, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1)));
        Assert.False(FewChannelConv2D.Applies(new(1, 4, 16, 16, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1)));   // 36 rows, 7 outputs a row
        Assert.True(FewChannelConv2D.Applies(new(1, 4, 16, 66, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1)));    // 36 rows on 4 channels, 32 outputs a row
        Assert.False(FewChannelConv2D.Applies(new(1, 5, 16, 66, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1)));   // 45 rows on 5 channels
        Assert.True(FewChannelConv2D.Applies(new(1, 3, 224, 224, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1)));  // ResNet's stem: 147 rows
        Assert.False(FewChannelConv2D.Applies(new(1, 3, 24, 66, 8, 9, 9, 2, 2, 1, 1, 0, 0, 0, 0, 1)));   // 243 rows
        Assert.False(FewChannelConv2D.Applies(new(1, 3, 16, 16, 7, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1)));   // 7 filters
        Assert.False(FewChannelConv2D.Applies(new(1, 3, 16, 16, 9, 3, 3, 1, 1, 2, 2, 0, 0, 0, 0, 1)));   // dilated
        Assert.False(FewChannelConv2D.Applies(new(1, 3, 16, 16, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 3)));   // grouped
        Assert.False(FewChannelConv2D.Applies(new(1, 3, 16, 16, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1)));   // pointwise
        var g = new Conv2DGeometry(1, 3, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        int saved = Threading.Workers.MaxThreads;
        try
        {
            Threading.Workers.MaxThreads = 1;
            var small = new float[Conv2D.WorkspaceLength(g)];
            Threading.Workers.MaxThreads = 3;
            Assert.Throws<ArgumentException>(() => Conv2D.Forward(g, new float[3 * 256], new float[8 * 27], [], new float[8 * 256], small));
        }
        finally { Threading.Workers.MaxThreads = saved; }
    }
}
