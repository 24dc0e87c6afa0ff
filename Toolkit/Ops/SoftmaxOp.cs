using System.Numerics.Tensors;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Softmax (or LogSoftmax when <see cref="Log"/>) over one axis. With <see cref="Coerce2D"/> (ONNX before opset 13)
/// the input is viewed as [prod(dims before axis), prod(dims from axis)] and each row is normalized.
/// Gradient: dx = y·(g − Σ g·y) for softmax; dx = g − softmax·Σg for log-softmax.
/// </summary>
public sealed class SoftmaxOp(int axis, bool coerce2D, bool log) : Op
{
    public int Axis { get; } = axis;
    public bool Coerce2D { get; } = coerce2D;
    public bool Log { get; } = log;
    public override string Type => Log ? "LogSoftmax" : "Softmax";
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        Shapes.NormalizeAxis(Axis, Math.Max(inputs[0].Length, 1));
        return [(int[])inputs[0].Clone()];
    }

    /// <summary>(outer, axis length, inner) of the normalization for a shape.</summary>
    public (int Outer, int Length, int Inner) Layout(ReadOnlySpan<int> shape)
    {
        int a = Shapes.NormalizeAxis(Axis, shape.Length);
        if (Coerce2D) return (Shapes.Product(shape, 0, a), Shapes.Product(shape, a, shape.Length), 1);
        return (Shapes.Product(shape, 0, a), shape[a], Shapes.Product(shape, a + 1, shape.Length));
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        var (outer, len, inner) = Layout(x.Shape);
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) Row(x.Data.AsSpan(o * len, len), y.Data.AsSpan(o * len, len));
            return;
        }
        // Strided axis: gather each column into a contiguous row, normalize, scatter back.
        var row = new float[len]; var res = new float[len];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * len * inner + i;
                for (int k = 0; k < len; k++) row[k] = x.Data[b + k * inner];
                Row(row, res);
                for (int k = 0; k < len; k++) y.Data[b + k * inner] = res[k];
            }
    }

    void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        // Stable form: subtract the maximum before exponentiating.
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (Log)
        {
            // log softmax = (x − max) − log Σ exp(x − max), summed in double for accuracy.
            double sum = 0;
            foreach (var v in y) sum += Math.Exp(v);
            TensorPrimitives.Subtract(y, (float)Math.Log(sum), y);
        }
        else
        {
            TensorPrimitives.Exp(y, y);
            float sum = TensorPrimitives.Sum(y);
            TensorPrimitives.Divide(y, sum, y);
        }
    }

    public override bool HasBackward => true;

    /// <summary>The gradient is computed from the output alone (dx = y·(g − Σ g·y)).</summary>
    public override bool BackwardReadsInput(int input) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var y = ctx.Outputs[0].Data; var g = ctx.OutputGrads[0].Data; var d = gx.Data;
        var (outer, len, inner) = Layout(gx.Shape);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int b = o * len * inner + i;
                double s = 0;
                // softmax: dx = y·(g − Σ g·y); log-softmax: dx = g − e^y·Σ g.
                for (int k = 0; k < len; k++) s += Log ? g[b + k * inner] : g[b + k * inner] * y[b + k * inner];
                for (int k = 0; k < len; k++)
                {
                    int at = b + k * inner;
                    d[at] += Log ? (float)(g[at] - Math.Exp(y[at]) * s) : (float)(y[at] * (g[at] - s));
                }
            }
    }

    public override string Describe() => $"{Type}(axis={Axis}{(Coerce2D ? ", 2-D" : "")})";
}
