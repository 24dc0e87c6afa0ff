using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>
/// The register-accumulating depthwise kernel (strides 1 and 2) against the plain loop at odd sizes: row widths around
/// every vector multiple (the 4-vector blocks, single vectors, the scratch tail and the AVX2 stride-2 split of 16
/// columns), planes from 1×1 up, 3×3 and 5×5 and non-square kernels, asymmetric pads; and every convolution path
/// hands each output element to its epilogue exactly once, after it is final.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class DepthwiseRowsTests
{
    /// <summary>Error relative to Σ|x·w| of the output element (float32 summation in another order, as Conv2DTests).</summary>
    const double RelativeToMagnitude = 2e-5;

    public static IEnumerable<object[]> Geometries()
    {
        var list = new List<Conv2DGeometry>();
        int[] widths = [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 35, 57];
        foreach (int s in new[] { 1, 2 })
            foreach (int w in widths)
            {
                list.Add(new(2, 3, Math.Max(3, w % 11 + 3), w, 3, 3, 3, s, s, 1, 1, 1, 1, 1, 1, 3));
                list.Add(new(1, 2, 9, w + 4, 2, 5, 5, s, s, 1, 1, 2, 2, 2, 2, 2));           // 5×5 (EfficientNet, MobileNetV3)
                list.Add(new(1, 4, 6, w + 2, 4, 3, 2, s, s, 1, 1, 0, 1, 2, 0, 4));           // asymmetric kernel and pads
                list.Add(new(3, 5, 7, w, 5, 1, 1, s, s, 1, 1, 0, 0, 0, 0, 5));               // 1×1 depthwise
            }
        list.Add(new(1, 2, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2));                       // one pixel
        list.Add(new(2, 7, 7, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7));                       // MobileNet's 7×7 planes
        list.Add(new(1, 3, 14, 14, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 3));                     // TF-style pads (bottom/right only)
        return list.Select(g => new object[] { g });
    }

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardMatchesReference(Conv2DGeometry g)
    {
        Assert.True(DepthwiseRows.Applies(g) || !g.IsDepthwise);
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 1);
        var w = Random((long)g.OutChannels * g.GroupChannels * g.KernelH * g.KernelW, 2);
        var bias = Random(g.OutChannels, 3);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var expected = new float[outLen];
        ReferenceConv2D.Forward(g, x, w, bias, expected);
        double bound = RelativeToMagnitude * (1 + g.Rows);
        foreach (int threads in new[] { 1, 2 })
        {
            int before = Threading.Workers.MaxThreads;
            Threading.Workers.MaxThreads = threads;
            try
            {
                var actual = new float[outLen];
                Conv2D.Forward(g, x, w, bias, actual, new float[Conv2D.WorkspaceLength(g)]);
                for (int i = 0; i < outLen; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g}, {threads} threads, at {i}: expected {expected[i]}, got {actual[i]}");
            }
            finally { Threading.Workers.MaxThreads = before; }
        }
    }

    /// <summary>Depthwise (new and old kernels), pointwise, im2col one image at a time and side by side, Winograd, few-channel.</summary>
    public static IEnumerable<object[]> EpilogueGeometries() => new List<Conv2DGeometry>
    {
        new(2, 6, 9, 17, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6),
        new(2, 4, 10, 9, 4, 3, 2, 1, 1, 2, 3, 2, 0, 1, 3, 4),     // dilated depthwise: the plane-wide kernel
        new(1, 8, 40, 33, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),    // pointwise, one GEMM over 1320 positions
        new(11, 5, 20, 15, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),   // images side by side
        new(2, 8, 40, 33, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // one image per GEMM, column blocks
        new(1, 8, 40, 33, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    // batch 1: each GEMM's columns split across threads
        new(1, 32, 30, 30, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2),  // grouped pointwise, batch 1
        new(2, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),  // Winograd
        new(2, 3, 32, 32, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),   // stem with 3 channels
    }.Select(g => new object[] { g });

    /// <summary>Weights packed once per group (what a fused inference node does) give the plain convolution's output.</summary>
    [Theory]
    [MemberData(nameof(EpilogueGeometries))]
    public void PackedWeightsGiveThePlainOutput(Conv2DGeometry g)
    {
        if (!Conv2D.UsesGemm(g)) return;
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 7);
        var w = Random((long)g.OutChannels * g.GroupChannels * g.KernelH * g.KernelW, 8);
        var bias = Random(g.OutChannels, 9);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var expected = new float[outLen];
        ReferenceConv2D.Forward(g, x, w, bias, expected);
        var actual = new float[outLen];
        Conv2D.Forward(g, x, w, bias, actual, new float[Conv2D.WorkspaceLength(g)], null, Conv2D.PackWeights(g, w));
        double bound = RelativeToMagnitude * (1 + g.Rows);
        for (int i = 0; i < outLen; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{g} at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(EpilogueGeometries))]
    public void TheEpilogueSeesEveryOutputOnceAndFinal(Conv2DGeometry g)
    {
        var x = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 4);
        var w = Random((long)g.OutChannels * g.GroupChannels * g.KernelH * g.KernelW, 5);
        var bias = Random(g.OutChannels, 6);
        long outLen = (long)g.Batch * g.OutChannels * g.Positions;
        var plain = new float[outLen];
        Conv2D.Forward(g, x, w, bias, plain, new float[Conv2D.WorkspaceLength(g)]);
        foreach (int threads in new[] { 1, 2 })
        {
            int before = Threading.Workers.MaxThreads;
            Threading.Workers.MaxThreads = threads;
            try
            {
                var y = new float[outLen];
                var seen = new int[outLen];
                var snapshot = new float[outLen];
                Conv2D.Forward(g, x, w, bias, y, new float[Conv2D.WorkspaceLength(g)], (start, length) =>
                {
                    for (int i = start; i < start + length; i++) { Interlocked.Increment(ref seen[i]); snapshot[i] = y[i]; }
                });
                for (int i = 0; i < outLen; i++)
                {
                    Assert.True(seen[i] == 1, $"{g}, {threads} threads: output {i} reached the epilogue {seen[i]} times");
                    Assert.Equal(plain[i], snapshot[i]);
                }
            }
            finally { Threading.Workers.MaxThreads = before; }
        }
    }
}
