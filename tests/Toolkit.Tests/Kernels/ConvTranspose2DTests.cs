using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Kernels.Reference;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>Transposed-convolution kernels (through the convolution passes) against the plain scatter loop.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadCountCollection.Name)]
public class ConvTranspose2DTests
{
    /// <summary>Error relative to Σ|x·w| of the element (float32 summation in another order, as in <see cref="Conv2DTests"/>).</summary>
    const double RelativeToMagnitude = 2e-5;

    /// <summary>x shape, W shape, strides, dilations, pads (begins, ends), output_padding, group.</summary>
    public static IEnumerable<object[]> Cases()
    {
        var list = new List<(int[] X, int[] W, int[] S, int[] D, int[] P, int[] Op, int G)>
        {
            ([1, 3, 5, 5], [3, 4, 3, 3], [1, 1], [1, 1], [0, 0, 0, 0], [0, 0], 1),
            ([2, 24, 20, 20], [24, 24, 2, 2], [2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 1),     // PP-OCRv4's 2×2 stride-2 upsampling
            ([2, 24, 20, 20], [24, 1, 2, 2], [2, 2], [1, 1], [0, 0, 0, 0], [0, 0], 1),      // … down to one channel
            ([1, 4, 6, 7], [4, 3, 3, 3], [2, 2], [1, 1], [1, 1, 1, 1], [1, 1], 1),          // padded, output_padding
            ([2, 6, 5, 6], [6, 2, 3, 3], [2, 1], [1, 1], [1, 0, 1, 2], [1, 0], 3),          // grouped, asymmetric
            ([1, 6, 7, 7], [6, 1, 3, 3], [1, 1], [1, 1], [1, 1, 1, 1], [0, 0], 6),          // depthwise
            ([2, 4, 6, 5], [4, 3, 3, 2], [3, 2], [2, 2], [2, 1, 1, 0], [2, 1], 2),          // dilated, grouped, strided
            ([1, 16, 8, 9], [16, 16, 3, 3], [1, 1], [1, 1], [1, 1, 1, 1], [0, 0], 1),       // its adjoint convolution is Winograd
            ([3, 2, 1, 9], [2, 3, 1, 3], [1, 2], [1, 1], [0, 1, 0, 1], [0, 1], 1),          // a 1-D kernel as height 1
        };
        var r = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            int groups = r.Next(1, 4), cg = r.Next(1, 4), mg = r.Next(1, 4);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 4), sw = r.Next(1, 4), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int ph = r.Next(0, kh), pw = r.Next(0, kw);
            list.Add(([r.Next(1, 3), groups * cg, r.Next(1, 9), r.Next(1, 9)], [groups * cg, mg, kh, kw], [sh, sw], [dh, dw],
                [ph, pw, r.Next(0, kh), r.Next(0, kw)], [r.Next(0, sh), r.Next(0, sw)], groups));
        }
        foreach (var c in list)
        {
            var op = new ConvTransposeOp(new WindowSpec([c.W[2], c.W[3]], c.S, c.D, c.P, AutoPad.NotSet), c.G, c.Op, null);
            Conv2DGeometry g;
            // Output padding beyond what the pads leave (or empty outputs) is refused: such random draws are skipped.
            try { g = op.Geometry(c.X, c.W); } catch (Tensors.ShapeException) { continue; }
            yield return [g];
        }
    }

    static float[] Random(long n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, (int)n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    static void AssertClose(float[] expected, float[] actual, double bound, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{what} at {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(Conv2DGeometry g)
    {
        // g is the adjoint convolution's geometry: x is its output [N, C, OutH, OutW], y its input [N, M, InH, InW].
        var x = Random((long)g.Batch * g.OutChannels * g.OutHeight * g.OutWidth, 1);
        var w = Random((long)g.OutChannels * (g.InChannels / g.Groups) * g.KernelH * g.KernelW, 2);
        var bias = Random(g.InChannels, 3);
        long yLen = (long)g.Batch * g.InChannels * g.InHeight * g.InWidth;
        var expected = new float[yLen];
        var actual = Enumerable.Repeat(float.NaN, (int)yLen).ToArray();   // set, not added
        ReferenceConvTranspose2D.Forward(g, x, w, bias, expected);
        ConvTranspose2D.Forward(g, x, w, bias, actual, new float[ConvTranspose2D.WorkspaceLength(g)]);
        // Each y element sums at most C/groups·KH·KW products of values in ±1, plus the bias.
        AssertClose(expected, actual, RelativeToMagnitude * (1 + g.OutChannels / g.Groups * g.KernelH * g.KernelW), $"{g} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesReference(Conv2DGeometry g)
    {
        var x = Random((long)g.Batch * g.OutChannels * g.OutHeight * g.OutWidth, 1);
        var w = Random((long)g.OutChannels * (g.InChannels / g.Groups) * g.KernelH * g.KernelW, 2);
        var dy = Random((long)g.Batch * g.InChannels * g.InHeight * g.InWidth, 4);
        var ws = new float[ConvTranspose2D.BackwardWorkspaceLength(g)];
        var dxExpected = Random(x.Length, 5); var dxActual = (float[])dxExpected.Clone();
        var dwExpected = Random(w.Length, 6); var dwActual = (float[])dwExpected.Clone();
        var dbExpected = Random(g.InChannels, 7); var dbActual = (float[])dbExpected.Clone();
        ReferenceConvTranspose2D.BackwardData(g, dy, w, dxExpected);
        ConvTranspose2D.BackwardData(g, dy, w, dxActual, ws, add: true);
        ReferenceConvTranspose2D.BackwardWeight(g, x, dy, dwExpected);
        ConvTranspose2D.BackwardWeight(g, x, dy, dwActual, ws);
        ReferenceConvTranspose2D.BackwardBias(g, dy, dbExpected);
        ConvTranspose2D.BackwardBias(g, dy, dbActual);
        // dx sums at most M/groups·KH·KW products, dW at most N·H·W, dB N·OutH·OutW values, plus the initial ±1.
        AssertClose(dxExpected, dxActual, RelativeToMagnitude * (1 + g.InChannels / g.Groups * g.KernelH * g.KernelW), $"{g} dx");
        AssertClose(dwExpected, dwActual, RelativeToMagnitude * (1 + g.Batch * g.OutHeight * g.OutWidth), $"{g} dW");
        AssertClose(dbExpected, dbActual, RelativeToMagnitude * (1 + g.Batch * g.InHeight * g.InWidth), $"{g} dB");

        // Set rather than added: whatever dx held (NaN here) is replaced by the gradient alone.
        var dxFromZero = new float[x.Length];
        ReferenceConvTranspose2D.BackwardData(g, dy, w, dxFromZero);
        var dxSet = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        ConvTranspose2D.BackwardData(g, dy, w, dxSet, ws, add: false);
        AssertClose(dxFromZero, dxSet, RelativeToMagnitude * (1 + g.InChannels / g.Groups * g.KernelH * g.KernelW), $"{g} set dx");
    }
}
