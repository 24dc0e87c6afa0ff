using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Optim;

/// <summary>Each optimizer over several steps against its published update rule, recomputed here in double.</summary>
public class OptimizerTests
{
    /// <summary>float32 updates against a double recomputation of the same rule.</summary>
    const double Tolerance = 2e-5;

    static readonly double[] Start = [0.5, -1.2, 2.0, 0.0, -0.3];

    /// <summary>The gradient fed at step t (deterministic, varies per element and step).</summary>
    static double Grad(int t, int i, double theta) => Math.Sin(1.3 * t + i) + 0.1 * theta;

    static void Run(Func<Parameter, Optimizer> make, Func<double[], int, double[], double[]> reference, int steps = 5)
    {
        var p = new Parameter("w", new Tensor([Start.Length], Start.Select(v => (float)v).ToArray())) { Grad = new Tensor(Start.Length) };
        var opt = make(p);
        var expected = (double[])Start.Clone();
        for (int t = 1; t <= steps; t++)
        {
            var g = expected.Select((v, i) => Grad(t, i, v)).ToArray();
            for (int i = 0; i < g.Length; i++) p.Grad.Span[i] = (float)Grad(t, i, p.Value.Span[i]);
            opt.Step();
            expected = reference(expected, t, g);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(p.Value.Span[i] - expected[i]) <= Tolerance * (1 + Math.Abs(expected[i])),
                    $"step {t} element {i}: {p.Value.Span[i]} vs {expected[i]}");
        }
    }

    static ParameterGroup[] G(Parameter p, double lr, double wd = 0) => [new ParameterGroup([p], (float)lr, (float)wd)];

    [Theory]
    [InlineData(0.0, 0.0, false, 0.0)]
    [InlineData(0.9, 0.0, false, 0.01)]
    [InlineData(0.9, 0.1, false, 0.0)]
    [InlineData(0.9, 0.0, true, 0.05)]
    public void Sgd(double mu, double damp, bool nesterov, double wd)
    {
        double[]? b = null;
        Run(p => new Sgd(G(p, 0.1, wd), (float)mu, (float)damp, nesterov), (th, t, g) =>
        {
            var r = (double[])th.Clone();
            for (int i = 0; i < r.Length; i++)
            {
                double gi = g[i] + wd * th[i];
                if (mu != 0)
                {
                    b ??= new double[r.Length];
                    b[i] = t == 1 ? gi : mu * b[i] + (1 - damp) * gi;
                    gi = nesterov ? gi + mu * b[i] : b[i];
                }
                r[i] -= 0.1 * gi;
            }
            return r;
        });
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(false, 0.1)]
    [InlineData(true, 0.1)]
    public void AdamAndAdamW(bool decoupled, double wd)
    {
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.05;
        var m = new double[Start.Length]; var v = new double[Start.Length];
        Run(p => decoupled ? new AdamW(G(p, lr, wd)) : new Adam(G(p, lr, wd)), (th, t, g) =>
        {
            var r = (double[])th.Clone();
            for (int i = 0; i < r.Length; i++)
            {
                double gi = g[i];
                if (decoupled) r[i] *= 1 - lr * wd; else gi += wd * th[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mh = m[i] / (1 - Math.Pow(b1, t)), vh = v[i] / (1 - Math.Pow(b2, t));
                r[i] -= lr * mh / (Math.Sqrt(vh) + eps);
            }
            return r;
        });
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(true, 0.5)]
    [InlineData(false, 0.5)]
    public void RmsProp(bool centered, double mu)
    {
        double alpha = 0.9, eps = 1e-8, lr = 0.01;
        var sq = new double[Start.Length]; var avg = new double[Start.Length]; var buf = new double[Start.Length];
        Run(p => new RmsProp(G(p, lr), (float)alpha, (float)eps, (float)mu, centered), (th, t, g) =>
        {
            var r = (double[])th.Clone();
            for (int i = 0; i < r.Length; i++)
            {
                sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
                double d = sq[i];
                if (centered) { avg[i] = alpha * avg[i] + (1 - alpha) * g[i]; d -= avg[i] * avg[i]; }
                double denom = Math.Sqrt(d) + eps;
                if (mu != 0) { buf[i] = mu * buf[i] + g[i] / denom; r[i] -= lr * buf[i]; }
                else r[i] -= lr * g[i] / denom;
            }
            return r;
        });
    }

    [Fact]
    public void Adagrad()
    {
        double lr = 0.1, eps = 1e-10;
        var s = new double[Start.Length];
        Run(p => new Adagrad(G(p, lr)), (th, t, g) =>
        {
            var r = (double[])th.Clone();
            for (int i = 0; i < r.Length; i++) { s[i] += g[i] * g[i]; r[i] -= lr * g[i] / (Math.Sqrt(s[i]) + eps); }
            return r;
        });
    }

    [Fact]
    public void ClippingByGlobalNormAndValue()
    {
        var a = new Parameter("a", new Tensor([2], [0f, 0f])) { Grad = new Tensor([2], [3f, 4f]) };
        var b = new Parameter("b", new Tensor([1], [0f])) { Grad = new Tensor([1], [12f]) };
        var sgd = new Sgd(G(a, 1).Concat(G(b, 1))) { ClipNorm = 1.3f };
        sgd.Step();
        // ‖(3,4,12)‖ = 13 → scaled by 0.1.
        Assert.Equal(-0.3f, a.Value.Span[0], 4);
        Assert.Equal(-0.4f, a.Value.Span[1], 4);
        Assert.Equal(-1.2f, b.Value.Span[0], 4);
        var c = new Parameter("c", new Tensor([2], [0f, 0f])) { Grad = new Tensor([2], [5f, -0.5f]) };
        new Sgd(G(c, 1)) { ClipValue = 1f }.Step();
        Assert.Equal([-1f, 0.5f], c.Value.Span.ToArray());
    }

    [Fact]
    public void L1PenaltyAddsTheSignOfTheWeight()
    {
        var p = new Parameter("p", new Tensor([3], [2f, -2f, 0f])) { Grad = new Tensor(3) };
        new Sgd(G(p, 0.5)) { L1 = 0.2f }.Step();
        Assert.Equal([1.9f, -1.9f, 0f], p.Value.Span.ToArray());
    }

    [Fact]
    public void FrozenParametersAreNotUpdated()
    {
        var p = new Parameter("p", new Tensor([2], [1f, 1f])) { Grad = new Tensor([2], [1f, 1f]), Trainable = false };
        new Adam(G(p, 0.1)).Step();
        Assert.Equal([1f, 1f], p.Value.Span.ToArray());
    }
}
