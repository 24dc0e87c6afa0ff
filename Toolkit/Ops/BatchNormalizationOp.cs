using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// BatchNormalization over axis 1 of an N×C×… tensor. Inputs: x, scale, bias, running mean, running var.
/// Inference: y = (x − mean)/√(var + ε)·scale + bias, done as y = x·s + t per channel.
/// </summary>
public sealed class BatchNormalizationOp(float epsilon, float momentum) : Op
{
    public float Epsilon { get; } = epsilon;
    /// <summary>ONNX convention: running = running·momentum + batch·(1 − momentum).</summary>
    public float Momentum { get; } = momentum;
    public override string Type => "BatchNormalization";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        if (x.Length < 2) throw new ShapeException("BatchNormalization needs an input of rank ≥ 2.");
        for (int i = 1; i < 5; i++)
            if (Shapes.ElementCount(inputs[i]) != x[1])
                throw new ShapeException($"BatchNormalization input {i} has {Shapes.ElementCount(inputs[i])} elements for {x[1]} channels.");
        return [(int[])x.Clone()];
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        var scale = ctx.Inputs[1].Data; var bias = ctx.Inputs[2].Data; var mean = ctx.Inputs[3].Data; var variance = ctx.Inputs[4].Data;
        int n = x.Dim(0), c = x.Dim(1), plane = x.Length / Math.Max(n * c, 1);
        var xd = x.Data; var yd = y.Data;
        Threading.Workers.For(n * c, plane, (s, e) =>
        {
            for (int nc = s; nc < e; nc++)
            {
                int ch = nc % c;
                float sc = scale[ch] / MathF.Sqrt(variance[ch] + Epsilon);
                float sh = bias[ch] - mean[ch] * sc;
                var src = xd.AsSpan(nc * plane, plane); var dst = yd.AsSpan(nc * plane, plane);
                // y = x·sc + sh, fused multiply-add per vector.
                System.Numerics.Tensors.TensorPrimitives.Multiply(src, sc, dst);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, sh, dst);
            }
        });
    }

    public override string Describe() => $"BatchNormalization(epsilon={Epsilon}, momentum={Momentum})";
}
