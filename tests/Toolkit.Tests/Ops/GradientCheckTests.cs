using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;
using static TransferKit.Toolkit.Tests.Ops.GradientCheck;

namespace TransferKit.Toolkit.Tests.Ops;

/// <summary>Every differentiable op's backward against central differences, on small odd shapes.</summary>
public class GradientCheckTests
{
    static WindowSpec Win(int kh, int kw, int sh = 1, int sw = 1, int dh = 1, int dw = 1, int[]? pads = null) =>
        new([kh, kw], [sh, sw], [dh, dw], pads ?? [0, 0, 0, 0], AutoPad.NotSet);

    public static IEnumerable<object[]> Activations() => new Op[]
    {
        new ReluOp(), new LeakyReluOp(0.1f), new SigmoidOp(), new TanhOp(), new HardSigmoidOp(0.2f, 0.5f), new HardSwishOp(),
        new ClipOp(-0.5f, 0.6f), new ScaleOp(0.25f), new ExpOp(), new NegOp(), new AbsOp(), new ErfOp(), new GeluOp(false),
        new GeluOp(true), new EluOp(0.7f), new SeluOp(SeluOp.DefaultAlpha, SeluOp.DefaultGamma), new SoftplusOp(), new MishOp(),
    }.Select(o => new object[] { o });

    /// <summary>Ops defined for positive inputs only.</summary>
    public static IEnumerable<object[]> PositiveActivations() =>
        new Op[] { new SqrtOp(), new ReciprocalOp(), new LogOp() }.Select(o => new object[] { o });

    [Theory]
    [MemberData(nameof(PositiveActivations))]
    public void PositiveDomainActivation(Op op)
    {
        // x in [0.5, 2.5]: far enough from 0 that the step stays in the smooth part (1/x and ln x steepen near 0).
        var x = Random([2, 3, 5], 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = 1.5f + x.Span[i];
        Check(op, [x]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 3, 1 }, new[] { 1, 5 })]
    [InlineData(new[] { 2, 3 }, new int[0])]
    public void Pow(int[] a, int[] b)
    {
        // Positive bases (ln a in d/db); exponents in [1, 3] around the 2 of a variance.
        var x = Random(a, 1); var e = Random(b, 2);
        for (int i = 0; i < x.Length; i++) x.Span[i] = 1.2f + x.Span[i] * 0.7f;
        for (int i = 0; i < e.Length; i++) e.Span[i] = 2f + e.Span[i];
        Check(new PowOp(), [x, e]);
    }

    [Fact]
    public void PowOfAConstantTwoGivesTheVarianceGradient()
    {
        // The decomposed LayerNorm's (x − μ)²: negative bases, exponent 2, only the base's gradient.
        Check(new PowOp(), [Random([3, 7], 3, scale: 2f), new Tensor([], [2f])], [true, false]);
    }

    [Theory]
    [InlineData(BinaryKind.Equal)]
    [InlineData(BinaryKind.Less)]
    [InlineData(BinaryKind.Greater)]
    public void ComparisonsHaveAZeroGradient(BinaryKind kind)
    {
        // Values half a ramp step apart never cross within the finite-difference step: numeric gradients are 0.
        var a = Distinct([3, 4], 1); var b = Distinct([4], 2);
        for (int i = 0; i < b.Length; i++) b.Span[i] += 0.025f;
        if (kind == BinaryKind.Equal) b.Span[1] = a.Span[5]; // one exact tie
        Check(new CompareOp(kind), [a, b], [kind != BinaryKind.Equal, true]);
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 3, 4 }, new[] { 2, 3, 4 })]
    [InlineData(new[] { 3, 1 }, new[] { 1, 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 4 }, new[] { 2, 3, 4 }, new int[0])]
    public void Where(int[] c, int[] x, int[] y)
    {
        var mask = Random(c, 9);
        for (int i = 0; i < mask.Length; i++) mask.Span[i] = mask.Span[i] > 0 ? 1 : 0;
        Check(new WhereOp(), [mask, Random(x, 1), Random(y, 2)], [false, true, true]);
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Activation(Op op) =>
        // Values kept a step away from the kinks at 0, ±0.5/0.6 (Clip), ±2.5 (HardSigmoid) and ±3 (HardSwish).
        Check(op, [Random([2, 3, 5], 1, scale: 4f, margin: 0.05f)]);

    public static IEnumerable<object[]> BinaryCases() =>
        new (Op Op, int[] A, int[] B)[]
        {
            (new AddOp(), [2, 3, 4], [3, 1]), (new SubOp(), [2, 1, 5], [1, 4, 1]), (new MulOp(), [3, 4, 5], [4, 1]),
            (new DivOp(), [2, 3, 3], [3]), (new MaxOp(), [3, 5], [3, 5]), (new PReluOp(), [2, 3, 2, 2], [3, 1, 1]),
            (new MulOp(), [1], [2, 3]),
            // Runs of 16 or more, the vectorized backward: a scale per channel, a squeeze-excite gate on the left,
            // both operands contiguous along a broadcast channel, the same shapes.
            (new MulOp(), [2, 3, 4, 5], [3, 1, 1]), (new MulOp(), [2, 3, 1, 1], [2, 3, 4, 5]),
            (new MulOp(), [2, 1, 4, 5], [2, 3, 4, 5]), (new MulOp(), [2, 3, 17], [2, 3, 17]),
            // The same for Add and Sub: a bias per channel, a bias along rows, a broadcast left operand.
            (new AddOp(), [2, 3, 4, 5], [3, 1, 1]), (new SubOp(), [2, 3, 17], [17]), (new SubOp(), [2, 3, 1, 1], [2, 3, 4, 5]),
        }.Select(c => new object[] { c.Op, c.A, c.B });

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary(Op op, int[] a, int[] b)
    {
        var x = op is MaxOp ? Distinct(a, 1) : Random(a, 1, margin: 0.05f);
        var y = op is DivOp ? Random(b, 2, scale: 1f, margin: 0.5f) : op is MaxOp ? Distinct(b, 7) : Random(b, 2);
        if (op is MaxOp)
            for (int i = 0; i < y.Length; i++) y.Span[i] += 0.025f; // both ramps step by 0.05: keep a and b half a step apart
        Check(op, [x, y]);
    }

    public static IEnumerable<object[]> ConvCases() =>
        new (int[] X, int[] W, WindowSpec Win, int Group)[]
        {
            ([2, 3, 7, 6], [4, 3, 3, 3], Win(3, 3), 1),
            ([1, 4, 8, 7], [6, 2, 3, 2], Win(3, 2, 2, 1, 1, 2, [1, 0, 2, 1]), 2),
            ([2, 3, 6, 6], [3, 1, 3, 3], Win(3, 3, 2, 2, 1, 1, [1, 1, 1, 1]), 3),   // depthwise
            ([1, 5, 5, 5], [3, 5, 1, 1], Win(1, 1), 1),                           // 1×1
            ([1, 2, 9, 9], [2, 2, 3, 3], Win(3, 3, 1, 1, 2, 2, [2, 2, 2, 2]), 1), // dilated
            ([2, 16, 9, 7], [20, 16, 3, 3], Win(3, 3, 1, 1, 1, 1, [1, 1, 1, 1]), 1),  // Winograd forward and both gradients
            ([2, 8, 6, 5], [12, 8, 3, 3], Win(3, 3, 1, 1, 1, 1, [1, 1, 1, 1]), 1),    // Winograd forward and input gradient, im2col weight gradient
            ([2, 6, 2, 2], [6, 1, 5, 5], Win(5, 5, 1, 1, 1, 1, [2, 2, 2, 2]), 6),     // depthwise 5×5 on a 2×2 plane (a 1/32 map of a 64 input)
            ([2, 6, 4, 4], [6, 1, 5, 5], Win(5, 5, 2, 2, 1, 1, [2, 2, 2, 2]), 6),     // depthwise 5×5 stride 2
            ([2, 4, 3, 3], [4, 1, 3, 3], Win(3, 3, 2, 2, 1, 1, [1, 1, 1, 1]), 4),     // depthwise 3×3 stride 2 on an odd plane
            ([2, 4, 1, 1], [4, 1, 3, 3], Win(3, 3, 1, 1, 1, 1, [1, 1, 1, 1]), 4),     // depthwise on a single pixel
        }.Select(c => new object[] { c.X, c.W, c.Win, c.Group });

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv(int[] x, int[] w, WindowSpec win, int group) =>
        Check(new ConvOp(win, group), [Random(x, 1), Random(w, 2), Random([w[0]], 3)]);

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(false, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, true)]
    [InlineData(false, true, true)]
    public void Pool(bool max, bool ceil, bool includePad)
    {
        var op = new PoolOp(max, Win(3, 2, 2, 2, 1, 1, [1, 0, 1, 1]), ceil, includePad);
        Check(op, [Distinct([2, 3, 7, 6], 4)]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GlobalPool(bool max) => Check(new GlobalPoolOp(max), [Distinct([2, 3, 4, 5], 5)]);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Gemm(bool ta, bool tb)
    {
        int m = 3, n = 5, k = 4;
        Check(new GemmOp(ta, tb, 0.7f, 1.3f), [Random(ta ? [k, m] : [m, k], 1), Random(tb ? [n, k] : [k, n], 2), Random([n], 3)]);
    }

    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4, 2 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 4, 2 })]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 3, 4, 2 })]
    [InlineData(new[] { 4 }, new[] { 4, 3 })]
    [InlineData(new[] { 2, 2, 5, 3 }, new[] { 2, 2, 3, 5 })]   // attention scores q·kᵀ per batch and head
    [InlineData(new[] { 2, 2, 5, 5 }, new[] { 1, 2, 5, 3 })]   // weights · v, v broadcast over the batch
    public void MatMul(int[] a, int[] b) => Check(new MatMulOp(), [Random(a, 1), Random(b, 2)]);

    [Theory]
    [InlineData(1, false, false)]
    [InlineData(-1, false, true)]
    [InlineData(1, true, false)]
    [InlineData(2, false, true)]
    public void Softmax(int axis, bool coerce, bool log) => Check(new SoftmaxOp(axis, coerce, log), [Random([2, 3, 4], 1, scale: 2f)]);

    [Fact]
    public void Lrn() => Check(new LrnOp(3, 0.2f, 0.75f, 1f), [Random([2, 5, 3, 2], 1)]);

    [Theory]
    [InlineData(PadMode.Constant)]
    [InlineData(PadMode.Reflect)]
    [InlineData(PadMode.Edge)]
    public void Pad(PadMode mode) => Check(new PadOp([0, 1, 2, 0, 2, 1], mode, 0.3f), [Random([2, 3, 4], 1)]);

    public static IEnumerable<object[]> ReduceCases() =>
        from kind in Enum.GetValues<ReduceKind>()
        from c in new (int[]? Axes, bool Keep)[] { ([2, 3], true), ([1], false), (null, false), ([-1, 0], true), ([], true) }
        select new object[] { kind, c.Axes!, c.Keep };

    [Theory]
    [MemberData(nameof(ReduceCases))]
    public void Reduce(ReduceKind kind, int[]? axes, bool keep)
    {
        // Max/Min on distinct values (no ties within a step); L2 away from an all-zero slice.
        var x = kind is ReduceKind.Max or ReduceKind.Min ? Distinct([2, 3, 4, 2], 1) : Random([2, 3, 4, 2], 1, margin: 0.05f);
        Check(new ReduceOp(kind, axes, keep), [x]);
    }

    [Fact]
    public void ReduceMaxSharesTheGradientOfTies()
    {
        var x = new Tensor([2, 3], [0.5f, 0.5f, -1f, 2f, 1f, 2f]);
        var op = new ReduceOp(ReduceKind.Max, [1], false);
        var ctx = new OpContext { Inputs = [x], Outputs = [new Tensor([2])], InputGrads = [new Tensor([2, 3])], OutputGrads = [new Tensor([2], [1f, 4f])] };
        op.Forward(ctx);
        Assert.Equal(new[] { 0.5f, 2f }, ctx.Outputs[0].Span.ToArray());
        op.Backward(ctx);
        Assert.Equal(new[] { 0.5f, 0.5f, 0f, 2f, 0f, 2f }, ctx.InputGrads[0]!.Span.ToArray());
    }

    [Theory]
    [InlineData(-1, new[] { 5 }, false)]
    [InlineData(1, new[] { 3, 5 }, true)]
    [InlineData(0, new[] { 2, 3, 5 }, false)]
    [InlineData(1, new[] { 1, 5 }, true)]
    [InlineData(-2, new[] { 3, 1 }, false)]
    public void LayerNormalization(int axis, int[] scale, bool statistics)
    {
        var x = Random([2, 3, 5], 1, scale: 2f);
        var op = new LayerNormalizationOp(axis, 1e-5f, statistics);
        Check(op, [x, Random(scale, 2), Random(scale, 3)]);
        Check(op, [x, Random(scale, 4)]); // no bias
    }

    [Fact]
    public void InstanceNormalization() =>
        Check(new InstanceNormalizationOp(1e-5f), [Random([2, 3, 4, 3], 1, scale: 2f), Random([3], 2), Random([3], 3)]);

    [Theory]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    [InlineData(6, true)]
    public void GroupNormalization(int groups, bool perGroup)
    {
        int c = 6;
        int affine = perGroup ? groups : c;
        Check(new GroupNormalizationOp(groups, 1e-5f, perGroup), [Random([2, c, 3, 2], 1, scale: 2f), Random([affine], 2), Random([affine], 3)]);
    }

    [Fact]
    public void ShapeOps()
    {
        Check(new TransposeOp([0, 2, 3, 1]), [Random([2, 3, 4, 5], 1)]);
        Check(new ConcatOp(1), [Random([2, 3, 2], 1), Random([2, 1, 2], 2), Random([2, 4, 2], 3)]);
        Check(new SplitOp(2, [1, 3, 2]), [Random([2, 3, 6], 1)]);
        Check(new ReshapeOp([DimRule.Copy(0), DimRule.Infer]), [Random([2, 3, 4], 1)]);
        Check(new IdentityOp(), [Random([5], 1)]);
    }

    [Fact]
    public void BatchNormalizationTraining()
    {
        var x = Random([3, 4, 3, 2], 1, scale: 2f);
        var stats = new[] { Random([4], 4), Random([4], 5, margin: 0.5f) };
        for (int i = 0; i < 4; i++) stats[1].Span[i] = Math.Abs(stats[1].Span[i]) + 0.5f;
        Check(new BatchNormalizationOp(1e-5f, 0.9f), [x, Random([4], 2), Random([4], 3), stats[0], stats[1]],
            [true, true, true, false, false], training: true);
    }

    [Fact]
    public void BatchNormalizationTrainingOnPlanesLongerThanTwoVectors()
    {
        // 35 positions per plane: the per-plane sums run their vector loop (two vectors a step) and a scalar tail.
        var x = Random([2, 3, 5, 7], 6, scale: 2f);
        var stats = new[] { Random([3], 7), Random([3], 8, margin: 0.5f) };
        for (int i = 0; i < 3; i++) stats[1].Span[i] = Math.Abs(stats[1].Span[i]) + 0.5f;
        Check(new BatchNormalizationOp(1e-5f, 0.9f), [x, Random([3], 9), Random([3], 10), stats[0], stats[1]],
            [true, true, true, false, false], training: true);
    }

    [Fact]
    public void BatchNormalizationFixedStatistics()
    {
        var variance = Random([4], 5);
        for (int i = 0; i < 4; i++) variance.Span[i] = Math.Abs(variance.Span[i]) + 0.5f;
        Check(new BatchNormalizationOp(1e-5f, 0.9f), [Random([3, 4, 3, 2], 1), Random([4], 2), Random([4], 3), Random([4], 4), variance],
            [true, true, true, false, false], training: false);
    }

    [Fact]
    public void DropoutTrainingUsesTheSameMaskForwardAndBackward() =>
        Check(new DropoutOp(0.3f) { Seed = 11 }, [Random([4, 7], 1)], training: true);

    public static IEnumerable<object[]> ResizeCases() =>
        new (ResizeMode Mode, ResizeCoordinates Coords, ResizeRounding Rounding, int[] X, float[]? Scales, int[]? Sizes)[]
        {
            (ResizeMode.Nearest, ResizeCoordinates.Asymmetric, ResizeRounding.Floor, [2, 3, 4, 5], [1, 1, 2, 2], null),   // PP-OCRv4's ×2
            (ResizeMode.Nearest, ResizeCoordinates.HalfPixel, ResizeRounding.RoundPreferFloor, [1, 2, 7, 6], [1, 1, 0.5f, 1.7f], null),
            (ResizeMode.Nearest, ResizeCoordinates.Asymmetric, ResizeRounding.Simple, [2, 2, 3, 3], [1, 2, 1, 3], null),  // the channel axis too
            (ResizeMode.Linear, ResizeCoordinates.HalfPixel, ResizeRounding.RoundPreferFloor, [2, 2, 4, 5], [1, 1, 2, 2], null),
            (ResizeMode.Linear, ResizeCoordinates.AlignCorners, ResizeRounding.RoundPreferFloor, [1, 3, 5, 4], null, [0, 3, 9, 3]),
            (ResizeMode.Linear, ResizeCoordinates.PytorchHalfPixel, ResizeRounding.RoundPreferFloor, [1, 2, 8, 7], [1, 1, 0.5f, 0.6f], null),
            (ResizeMode.Linear, ResizeCoordinates.Asymmetric, ResizeRounding.RoundPreferFloor, [3, 5, 6], [1, 1, 2.5f], null),
        }.Select(c => new object[] { c.Mode, c.Coords, c.Rounding, c.X, c.Scales!, c.Sizes! });

    /// <summary>Resize is linear in x (a gather, or fixed weights on four neighbours): its backward is the adjoint.</summary>
    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Resize(ResizeMode mode, ResizeCoordinates coords, ResizeRounding rounding, int[] x, float[]? scales, int[]? sizes) =>
        Check(new ResizeOp(mode, coords, rounding, scales, sizes), [Random(x, 1)]);

    public static IEnumerable<object[]> ConvTransposeCases() =>
        new (int[] X, int[] W, WindowSpec Win, int Group, int[] OutputPadding, bool Bias)[]
        {
            ([2, 3, 4, 5], [3, 4, 2, 2], Win(2, 2, 2, 2), 1, [0, 0], true),                       // PP-OCRv4's 2×2 stride 2
            ([1, 4, 5, 4], [4, 3, 3, 3], Win(3, 3, 2, 2, 1, 1, [1, 1, 1, 1]), 1, [1, 1], true),  // padded, output_padding
            ([2, 6, 4, 4], [6, 2, 3, 2], Win(3, 2, 2, 1, 1, 2, [1, 0, 0, 1]), 3, [1, 0], false), // grouped, dilated, asymmetric
            ([1, 4, 3, 4], [4, 1, 3, 3], Win(3, 3, 1, 1, 2, 2, [2, 2, 2, 2]), 4, [0, 0], true),  // depthwise, dilated
            ([1, 16, 5, 6], [16, 8, 3, 3], Win(3, 3, 1, 1, 1, 1, [1, 1, 1, 1]), 1, [0, 0], true), // Winograd underneath
        }.Select(c => new object[] { c.X, c.W, c.Win, c.Group, c.OutputPadding, c.Bias });

    /// <summary>ConvTranspose's gradients for input, weight and bias.</summary>
    [Theory]
    [MemberData(nameof(ConvTransposeCases))]
    public void ConvTranspose(int[] x, int[] w, WindowSpec win, int group, int[] outputPadding, bool bias) =>
        Check(new ConvTransposeOp(win, group, outputPadding, null),
            bias ? [Random(x, 1), Random(w, 2), Random([w[1] * group], 3)] : [Random(x, 1), Random(w, 2)]);
}
