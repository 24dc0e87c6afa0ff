using TransferKit.Toolkit.Tensors;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Base of the normalizations over contiguous groups of elements (LayerNormalization, InstanceNormalization,
/// GroupNormalization). The input is seen as rows of L contiguous elements; each row is normalised by its own mean and
/// (biased) variance, then an affine scale and bias are applied, the parameter index of element j of row r being given
/// by the subclass' layout. Inputs: x, scale, optional bias. With statistics outputs (LayerNormalization's Mean and
/// InvStdDev) every row's μ and σ⁻¹ are outputs 1 and 2.
/// Forward: x̂ = (x − μ)·σ⁻¹, σ⁻¹ = 1/√(var + ε), y = x̂·scale[a] + bias[a].
/// Gradient, per row with ĝ = g·scale[a]: dx = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) + gμ/L − gσ⁻¹·σ⁻³(x − μ)/L;
/// dscale[a] += g·x̂; dbias[a] += g.
/// </summary>
public abstract class NormalizationOp(float epsilon) : Op
{
    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; } = epsilon;

    /// <summary>
    /// How <paramref name="x"/> splits into rows (rows × length = its element count), and the affine index of each
    /// element: element j of row r uses scale[affine[(r % period)·length + j]].
    /// </summary>
    protected abstract (int Rows, int Length, int Period, int[] Affine) Layout(int[] x, int[] scale);

    /// <summary>Shape of the statistics outputs, when the op has them (null: one output).</summary>
    protected virtual int[]? StatisticsShape(int[] x) => null;

    /// <summary>The layout of the last shapes seen, as one reference: plans on other threads may share the op.</summary>
    sealed record Cached(int[] X, int[] S, (int Rows, int Length, int Period, int[] Affine) L);
    Cached? _layout;

    (int Rows, int Length, int Period, int[] Affine) LayoutFor(Tensor x, Tensor scale)
    {
        var c = Volatile.Read(ref _layout);
        if (c != null && x.Shape.SequenceEqual(c.X) && scale.Shape.SequenceEqual(c.S)) return c.L;
        var l = Layout(x.ShapeArray, scale.ShapeArray);
        Volatile.Write(ref _layout, new Cached(x.ShapeArray, scale.ShapeArray, l));
        return l;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        var (rows, length, period, affine) = Layout(x, inputs[1]);
        if ((long)rows * length != Shapes.ElementCount(x)) throw new ShapeException($"{Type}: layout does not cover the input {Shapes.Format(x)}.");
        long scaleCount = Shapes.ElementCount(inputs[1]);
        if (affine.Any(a => a < 0 || a >= scaleCount)) throw new ShapeException($"{Type}: scale {Shapes.Format(inputs[1])} does not fit the input {Shapes.Format(x)}.");
        if (inputs.Count > 2 && !inputs[2].SequenceEqual(inputs[1]) && Shapes.ElementCount(inputs[2]) != scaleCount)
            throw new ShapeException($"{Type}: bias {Shapes.Format(inputs[2])} does not match scale {Shapes.Format(inputs[1])}.");
        var stats = StatisticsShape(x);
        return stats == null ? [(int[])x.Clone()] : [(int[])x.Clone(), stats, (int[])stats.Clone()];
    }

    /// <summary>Mean and σ⁻¹ of one row, accumulated in double (two passes: the variance of x − μ).</summary>
    static (float Mean, float InvStd) Statistics(ReadOnlySpan<float> x, float epsilon)
    {
        double s = 0;
        foreach (var v in x) s += v;
        double mean = s / x.Length, q = 0;
        foreach (var v in x) { double d = v - mean; q += d * d; }
        return ((float)mean, (float)(1 / Math.Sqrt(q / x.Length + epsilon)));
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var scale = ctx.Inputs[1].Data;
        var bias = ctx.Inputs.Length > 2 ? ctx.Inputs[2].Data : null;
        var (rows, len, period, affine) = LayoutFor(x, ctx.Inputs[1]);
        var xd = x.Data; var yd = ctx.Outputs[0].Data;
        var meanOut = ctx.Outputs.Length > 1 ? ctx.Outputs[1].Data : null;
        var invOut = ctx.Outputs.Length > 2 ? ctx.Outputs[2].Data : null;
        float eps = Epsilon;
        Workers.For(rows, 4L * len, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var row = xd.AsSpan(r * len, len);
                var (mean, inv) = Statistics(row, eps);
                if (meanOut != null) meanOut[r] = mean;
                if (invOut != null) invOut[r] = inv;
                int a0 = r % period * len;
                for (int j = 0; j < len; j++)
                {
                    int a = affine[a0 + j];
                    yd[r * len + j] = (row[j] - mean) * inv * scale[a] + (bias != null ? bias[a] : 0);
                }
            }
        });
    }

    public override bool HasBackward => true;

    /// <summary>Backward recomputes the statistics from x and never reads the outputs.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    /// <summary>The bias is only added: its value is not needed.</summary>
    public override bool BackwardReadsInput(int input) => input < 2;

    public override void Backward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var scale = ctx.Inputs[1].Data;
        var (rows, len, period, affine) = LayoutFor(x, ctx.Inputs[1]);
        var xd = x.Data; var g = ctx.OutputGrads[0].Data;
        var gMean = ctx.OutputGrads.Length > 1 ? ctx.OutputGrads[1].Data : null;
        var gInv = ctx.OutputGrads.Length > 2 ? ctx.OutputGrads[2].Data : null;
        var dx = ctx.InputGrads[0]?.Data;
        var ds = ctx.InputGrads.Length > 1 ? ctx.InputGrads[1]?.Data : null;
        var db = ctx.InputGrads.Length > 2 ? ctx.InputGrads[2]?.Data : null;
        var xhat = new double[len];
        var gs = new double[len];
        for (int r = 0; r < rows; r++)
        {
            var row = xd.AsSpan(r * len, len);
            var (mean, inv) = Statistics(row, Epsilon);
            int a0 = r % period * len, o = r * len;
            double sumG = 0, sumGX = 0;
            for (int j = 0; j < len; j++)
            {
                int a = affine[a0 + j];
                double xh = (row[j] - mean) * (double)inv, gj = g[o + j];
                xhat[j] = xh;
                gs[j] = gj * scale[a];
                sumG += gs[j]; sumGX += gs[j] * xh;
                if (ds != null) ds[a] += (float)(gj * xh);
                if (db != null) db[a] += (float)gj;
            }
            if (dx == null) continue;
            double mG = sumG / len, mGX = sumGX / len;
            // Statistics outputs: dμ/dx = 1/L, dσ⁻¹/dx = −σ⁻³(x − μ)/L = −σ⁻²·x̂/L.
            double cm = gMean != null ? gMean[r] / (double)len : 0;
            double ci = gInv != null ? -gInv[r] * (double)inv * inv / len : 0;
            for (int j = 0; j < len; j++)
                dx[o + j] += (float)(inv * (gs[j] - mG - xhat[j] * mGX) + cm + ci * xhat[j]);
        }
    }
}
