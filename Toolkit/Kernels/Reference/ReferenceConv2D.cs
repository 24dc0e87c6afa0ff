namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>The plain seven-deep loop of a grouped, strided, dilated, padded 2-D convolution, accumulated in double.</summary>
public static class ReferenceConv2D
{
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        var sums = new double[y.Length];
        Forward(g, x, w, bias, sums);
        for (int i = 0; i < sums.Length; i++) y[i] = (float)sums[i];
    }

    /// <summary>The same sums kept in double, not rounded to float32 (a reference for float32 round-off itself).</summary>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<double> y)
    {
        int cg = g.InChannels / g.Groups, mg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int m = 0; m < g.OutChannels; m++)
            {
                int grp = m / mg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double acc = bias.IsEmpty ? 0 : bias[m];
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelH; u++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (yy < 0 || yy >= g.InHeight) continue;
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (xx < 0 || xx >= g.InWidth) continue;
                                    acc += (double)x[((n * g.InChannels + grp * cg + c) * g.InHeight + yy) * g.InWidth + xx]
                                           * w[((m * cg + c) * g.KernelH + u) * g.KernelW + v];
                                }
                            }
                        y[((n * g.OutChannels + m) * oh + i) * ow + j] = acc;
                    }
            }
    }

    /// <summary>Visits every (output element, input element, weight) triple that forward multiplies, with their flat indices.</summary>
    static void Taps(in Conv2DGeometry g, Action<int, int, int> visit)
    {
        int cg = g.InChannels / g.Groups, mg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int m = 0; m < g.OutChannels; m++)
            {
                int grp = m / mg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelH; u++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (yy < 0 || yy >= g.InHeight) continue;
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (xx < 0 || xx >= g.InWidth) continue;
                                    visit(((n * g.OutChannels + m) * oh + i) * ow + j,
                                        ((n * g.InChannels + grp * cg + c) * g.InHeight + yy) * g.InWidth + xx,
                                        ((m * cg + c) * g.KernelH + u) * g.KernelW + v);
                                }
                            }
            }
    }

    /// <summary>dx += Σ dy·w over every tap that read x (accumulated in double).</summary>
    public static void BackwardData(in Conv2DGeometry g, float[] dy, float[] w, float[] dx)
    {
        var acc = new double[dx.Length];
        Taps(g, (o, xi, wi) => acc[xi] += (double)dy[o] * w[wi]);
        for (int i = 0; i < dx.Length; i++) dx[i] = (float)(dx[i] + acc[i]);
    }

    /// <summary>dW += Σ dy·x over every tap that used the weight (accumulated in double).</summary>
    public static void BackwardWeight(in Conv2DGeometry g, float[] x, float[] dy, float[] dw)
    {
        var acc = new double[dw.Length];
        Taps(g, (o, xi, wi) => acc[wi] += (double)dy[o] * x[xi]);
        for (int i = 0; i < dw.Length; i++) dw[i] = (float)(dw[i] + acc[i]);
    }

    /// <summary>dB += Σ dy over images and positions.</summary>
    public static void BackwardBias(in Conv2DGeometry g, float[] dy, float[] db)
    {
        int positions = g.OutHeight * g.OutWidth;
        for (int m = 0; m < g.OutChannels; m++)
        {
            double acc = 0;
            for (int n = 0; n < g.Batch; n++)
                for (int q = 0; q < positions; q++) acc += dy[(n * g.OutChannels + m) * positions + q];
            db[m] = (float)(db[m] + acc);
        }
    }
}
