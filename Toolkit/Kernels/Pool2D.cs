namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Max and average pooling over 2-D windows (1-D pooling runs as height 1) and global pooling. Padding never wins a
/// max; the average divides by the window clipped to the padded input (count_include_pad) or to the real input.
/// Global pooling reduces each plane with TensorPrimitives (vectorized).
/// </summary>
public static class Pool2D
{
    public static void MaxForward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    float best = float.NegativeInfinity; int at = -1;
                    for (int u = 0; u < g.KernelH; u++)
                    {
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        if (yy < 0 || yy >= g.InHeight) continue;
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                            if (xx < 0 || xx >= g.InWidth) continue;
                            float val = x[p * plane + yy * g.InWidth + xx];
                            if (val > best || at < 0) { best = val; at = yy * g.InWidth + xx; }
                        }
                    }
                    y[(p * oh + i) * ow + j] = best;
                    if (!argmax.IsEmpty) argmax[(p * oh + i) * ow + j] = at;
                }
    }

    public static void AverageForward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h0 = i * g.StrideH - g.PadTop, w0 = j * g.StrideW - g.PadLeft;
                    int h1 = Math.Min(h0 + g.KernelH, g.InHeight + g.PadBottom), w1 = Math.Min(w0 + g.KernelW, g.InWidth + g.PadRight);
                    int padded = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.InHeight); w1 = Math.Min(w1, g.InWidth);
                    float acc = 0;
                    for (int yy = h0; yy < h1; yy++)
                        for (int xx = w0; xx < w1; xx++) acc += x[p * plane + yy * g.InWidth + xx];
                    int count = g.CountIncludePad ? padded : (h1 - h0) * (w1 - w0);
                    y[(p * oh + i) * ow + j] = count > 0 ? acc / count : 0;
                }
    }

    /// <summary>dx[argmax] += dy (adds); the arg-max is recomputed from x.</summary>
    public static void MaxBackward(in Pool2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        var y = new float[dy.Length]; var arg = new int[dy.Length];
        MaxForward(g, x, y, arg);
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int o = 0; o < oh * ow; o++)
            {
                int at = arg[p * oh * ow + o];
                if (at >= 0) dx[p * plane + at] += dy[p * oh * ow + o];
            }
    }

    /// <summary>Spreads dy over each window with forward's divisor (adds).</summary>
    public static void AverageBackward(in Pool2DGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h0 = i * g.StrideH - g.PadTop, w0 = j * g.StrideW - g.PadLeft;
                    int h1 = Math.Min(h0 + g.KernelH, g.InHeight + g.PadBottom), w1 = Math.Min(w0 + g.KernelW, g.InWidth + g.PadRight);
                    int padded = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0); h1 = Math.Min(h1, g.InHeight); w1 = Math.Min(w1, g.InWidth);
                    int count = g.CountIncludePad ? padded : (h1 - h0) * (w1 - w0);
                    if (count <= 0) continue;
                    float share = dy[(p * oh + i) * ow + j] / count;
                    for (int yy = h0; yy < h1; yy++)
                        for (int xx = w0; xx < w1; xx++) dx[p * plane + yy * g.InWidth + xx] += share;
                }
    }

    public static void GlobalAverage(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++) y[p] = System.Numerics.Tensors.TensorPrimitives.Sum(x.Slice(p * planeSize, planeSize)) / planeSize;
    }

    public static void GlobalMax(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++) y[p] = System.Numerics.Tensors.TensorPrimitives.Max(x.Slice(p * planeSize, planeSize));
    }
}
