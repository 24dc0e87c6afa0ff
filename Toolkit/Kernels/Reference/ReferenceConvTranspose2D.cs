namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>
/// The plain scatter loop of a grouped, strided, dilated, padded 2-D transposed convolution, accumulated in double:
/// y[n, grp·Mg + m, i·sh − pt + u·dh, j·sw − pl + v·dw] += x[n, c, i, j]·w[c, m, u, v] for c in group grp.
/// <c>g</c> is the geometry of the convolution it is the adjoint of (see <see cref="ConvTranspose2D"/>).
/// </summary>
public static class ReferenceConvTranspose2D
{
    /// <summary>Visits every (x element, y element, weight) triple the forward multiplies, with their flat indices.</summary>
    static void Taps(in Conv2DGeometry g, Action<int, int, int> visit)
    {
        int c = g.OutChannels, m = g.InChannels, cg = c / g.Groups, mg = m / g.Groups;
        int h = g.OutHeight, wd = g.OutWidth, oh = g.InHeight, ow = g.InWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int ci = 0; ci < c; ci++)
            {
                int grp = ci / cg;
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < wd; j++)
                        for (int mi = 0; mi < mg; mi++)
                            for (int u = 0; u < g.KernelH; u++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (yy < 0 || yy >= oh) continue;
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (xx < 0 || xx >= ow) continue;
                                    visit(((n * c + ci) * h + i) * wd + j,
                                        ((n * m + grp * mg + mi) * oh + yy) * ow + xx,
                                        ((ci * mg + mi) * g.KernelH + u) * g.KernelW + v);
                                }
                            }
            }
    }

    /// <summary>y = conv_transpose(x, w) + bias (set).</summary>
    public static void Forward(in Conv2DGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        var acc = new double[y.Length];
        Taps(g, (xi, yi, wi) => acc[yi] += (double)x[xi] * w[wi]);
        int plane = g.InHeight * g.InWidth;
        for (int i = 0; i < y.Length; i++) y[i] = (float)(acc[i] + (bias == null ? 0 : bias[i / plane % g.InChannels]));
    }

    /// <summary>dx += Σ dy·w over every tap x fed.</summary>
    public static void BackwardData(in Conv2DGeometry g, float[] dy, float[] w, float[] dx)
    {
        var acc = new double[dx.Length];
        Taps(g, (xi, yi, wi) => acc[xi] += (double)dy[yi] * w[wi]);
        for (int i = 0; i < dx.Length; i++) dx[i] = (float)(dx[i] + acc[i]);
    }

    /// <summary>dW += Σ x·dy over every tap that used the weight.</summary>
    public static void BackwardWeight(in Conv2DGeometry g, float[] x, float[] dy, float[] dw)
    {
        var acc = new double[dw.Length];
        Taps(g, (xi, yi, wi) => acc[wi] += (double)x[xi] * dy[yi]);
        for (int i = 0; i < dw.Length; i++) dw[i] = (float)(dw[i] + acc[i]);
    }

    /// <summary>dB += Σ dy over batch and space, per output channel.</summary>
    public static void BackwardBias(in Conv2DGeometry g, float[] dy, float[] db)
    {
        int plane = g.InHeight * g.InWidth;
        var acc = new double[db.Length];
        for (int i = 0; i < dy.Length; i++) acc[i / plane % g.InChannels] += dy[i];
        for (int m = 0; m < db.Length; m++) db[m] = (float)(db[m] + acc[m]);
    }
}
