using TransferKit.Toolkit.Ops;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The vectorized forward and gradient of every activation against its scalar definition, at every tail length.</summary>
[Trait("Category", "Kernels")]
public class ActivationTests
{
    /// <summary>TensorPrimitives' exp-based Sigmoid/Tanh differ from MathF by a few ulps; everything else is exact.</summary>
    const double Tolerance = 1e-6;

    public static IEnumerable<object[]> Activations() =>
        new UnaryOp[] { new ReluOp(), new LeakyReluOp(0.1f), new SigmoidOp(), new TanhOp(), new HardSigmoidOp(0.2f, 0.5f), new HardSwishOp(), new ClipOp(-0.5f, 0.7f), new ScaleOp(1.5f),
            new SqrtOp(), new ReciprocalOp(), new ExpOp(), new LogOp(), new NegOp(), new AbsOp(), new ErfOp(), new GeluOp(false), new GeluOp(true),
            new EluOp(1f), new SeluOp(SeluOp.DefaultAlpha, SeluOp.DefaultGamma), new SoftplusOp(), new MishOp() }
            .Select(op => new object[] { op });

    static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        // Values around the kinks (0, ±3, the clip bounds) and exact zeros.
        return Enumerable.Range(0, n).Select(i => i % 11 == 0 ? 0f : (float)(r.NextDouble() * 8 - 4)).ToArray();
    }

    /// <summary>Ops defined for positive inputs only get |x| + 0.01 (the derivative formulas are then finite).</summary>
    static float[] Inputs(UnaryOp op, int n, int seed)
    {
        var x = Random(n, seed);
        if (op is SqrtOp or ReciprocalOp or LogOp) for (int i = 0; i < n; i++) x[i] = Math.Abs(x[i]) + 0.01f;
        return x;
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void VectorPathsEqualTheScalarDefinitionAtEveryLength(UnaryOp op)
    {
        foreach (int n in Enumerable.Range(1, 130).Append(4099))
        {
            var x = Inputs(op, n, n);
            var y = new float[n];
            op.Apply(x, y);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(y[i] - op.Scalar(x[i])) <= Tolerance * (1 + Math.Abs(op.Scalar(x[i]))), $"{op.Type} y at {i} of {n}: {y[i]} vs {op.Scalar(x[i])}");
            var g = Random(n, n + 1000);
            var dx = Random(n, n + 2000);
            var expected = dx.Select((d, i) => d + g[i] * op.Derivative(x[i], y[i])).ToArray();
            op.ApplyGradient(x, y, g, dx);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(dx[i] - expected[i]) <= Tolerance * (1 + Math.Abs(expected[i])), $"{op.Type} dx at {i} of {n}: {dx[i]} vs {expected[i]}");
            // Set rather than added: whatever the buffer held (NaN here) is replaced.
            var set = Enumerable.Repeat(float.NaN, n).ToArray();
            op.ApplyGradient(x, y, g, set, add: false);
            for (int i = 0; i < n; i++)
            {
                float e = g[i] * op.Derivative(x[i], y[i]);
                Assert.True(Math.Abs(set[i] - e) <= Tolerance * (1 + Math.Abs(e)), $"{op.Type} set dx at {i} of {n}: {set[i]} vs {e}");
            }
        }
    }
}
