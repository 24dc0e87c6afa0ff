namespace TransferKit.Toolkit.Kernels;

// Plain loop versions of the GEMM, convolution and pooling kernels with the engine's kernel signatures.

public readonly record struct Conv2DGeometry(int Batch, int InChannels, int InHeight, int InWidth, int OutChannels, int KernelH, int KernelW,
    int StrideH, int StrideW, int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight, int Groups)
{
    public int OutHeight => (InHeight + PadTop + PadBottom - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    public int OutWidth => (InWidth + PadLeft + PadRight - DilationW * (KernelW - 1) - 1) / StrideW + 1;
}

public static class Conv2D
{
    static int Rows(in Conv2DGeometry g) => g.InChannels / g.Groups * g.KernelH * g.KernelW;

    public static long WorkspaceLength(in Conv2DGeometry g) => (long)Rows(g) * g.OutHeight * g.OutWidth;

    public static long BackwardWorkspaceLength(in Conv2DGeometry g) => WorkspaceLength(g);

    /// <summary>Unfolds one image and group into col[r, p] (r = channel·kernel position, p = output position).</summary>
    static void Im2Col(in Conv2DGeometry g, ReadOnlySpan<float> x, int n, int grp, Span<float> col)
    {
        int cg = g.InChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth, cols = oh * ow;
        for (int c = 0; c < cg; c++)
        {
            var plane = x.Slice(((n * g.InChannels) + grp * cg + c) * g.InHeight * g.InWidth, g.InHeight * g.InWidth);
            for (int u = 0; u < g.KernelH; u++)
                for (int v = 0; v < g.KernelW; v++)
                {
                    var dst = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * cols, cols);
                    for (int i = 0; i < oh; i++)
                    {
                        int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                        for (int j = 0; j < ow; j++)
                        {
                            int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                            dst[i * ow + j] = yy >= 0 && yy < g.InHeight && xx >= 0 && xx < g.InWidth ? plane[yy * g.InWidth + xx] : 0;
                        }
                    }
                }
        }
    }

    /// <summary>dx = col2im(Wᵀ·dy); overwrites dx.</summary>
    public static void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, Span<float> workspace)
    {
        int cg = g.InChannels / g.Groups, mg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth, rows = Rows(g), cols = oh * ow;
        var col = workspace.Slice(0, rows * cols);
        dx.Clear();
        for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                Gemm.Sgemm(true, false, rows, cols, mg, 1, w.Slice(grp * mg * rows, mg * rows), rows,
                    dy.Slice((n * g.OutChannels + grp * mg) * cols, mg * cols), cols, 0, col, cols);
                for (int c = 0; c < cg; c++)
                {
                    var plane = dx.Slice(((n * g.InChannels) + grp * cg + c) * g.InHeight * g.InWidth, g.InHeight * g.InWidth);
                    for (int u = 0; u < g.KernelH; u++)
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            var src = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * cols, cols);
                            for (int i = 0; i < oh; i++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (yy < 0 || yy >= g.InHeight) continue;
                                for (int j = 0; j < ow; j++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (xx >= 0 && xx < g.InWidth) plane[yy * g.InWidth + xx] += src[i * ow + j];
                                }
                            }
                        }
                }
            }
    }

    /// <summary>dW += dy·colᵀ (adds).</summary>
    public static void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> workspace)
    {
        int mg = g.OutChannels / g.Groups, rows = Rows(g), cols = g.OutHeight * g.OutWidth;
        var col = workspace.Slice(0, rows * cols);
        for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                Im2Col(g, x, n, grp, col);
                Gemm.Sgemm(false, true, mg, rows, cols, 1, dy.Slice((n * g.OutChannels + grp * mg) * cols, mg * cols), cols, col, cols,
                    1, dw.Slice(grp * mg * rows, mg * rows), rows);
            }
    }

    /// <summary>dB += Σ dy over batch and space (adds).</summary>
    public static void BackwardBias(in Conv2DGeometry g, ReadOnlySpan<float> dy, Span<float> db)
    {
        int cols = g.OutHeight * g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int m = 0; m < g.OutChannels; m++) db[m] += System.Numerics.Tensors.TensorPrimitives.Sum(dy.Slice((n * g.OutChannels + m) * cols, cols));
    }

    /// <summary>im2col per image and group, then one GEMM: y[m, p] = Σ_r w[m, r]·col[r, p] + bias[m].</summary>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> workspace)
    {
        int cg = g.InChannels / g.Groups, mg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth, rows = Rows(g), cols = oh * ow;
        var col = workspace.Slice(0, rows * cols);
        for (int n = 0; n < g.Batch; n++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                for (int c = 0; c < cg; c++)
                {
                    var plane = x.Slice(((n * g.InChannels) + grp * cg + c) * g.InHeight * g.InWidth, g.InHeight * g.InWidth);
                    for (int u = 0; u < g.KernelH; u++)
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            var dst = col.Slice(((c * g.KernelH + u) * g.KernelW + v) * cols, cols);
                            for (int i = 0; i < oh; i++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                for (int j = 0; j < ow; j++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    dst[i * ow + j] = yy >= 0 && yy < g.InHeight && xx >= 0 && xx < g.InWidth ? plane[yy * g.InWidth + xx] : 0;
                                }
                            }
                        }
                }
                var outSlice = y.Slice((n * g.OutChannels + grp * mg) * cols, mg * cols);
                Gemm.Sgemm(false, false, mg, cols, rows, 1, w.Slice(grp * mg * rows, mg * rows), rows, col, cols, 0, outSlice, cols);
                if (!bias.IsEmpty)
                    for (int m = 0; m < mg; m++)
                        System.Numerics.Tensors.TensorPrimitives.Add(outSlice.Slice(m * cols, cols), bias[grp * mg + m], outSlice.Slice(m * cols, cols));
            }
    }
}

public readonly record struct Pool2DGeometry(int Batch, int Channels, int InHeight, int InWidth, int KernelH, int KernelW, int StrideH, int StrideW,
    int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight, bool CeilMode, bool CountIncludePad)
{
    public int OutHeight => Out(InHeight, PadTop, PadBottom, KernelH, StrideH, DilationH);
    public int OutWidth => Out(InWidth, PadLeft, PadRight, KernelW, StrideW, DilationW);

    int Out(int size, int p0, int p1, int k, int s, int d)
    {
        int span = size + p0 + p1 - d * (k - 1) - 1;
        int o = CeilMode ? (span + s - 1) / s + 1 : span / s + 1;
        if (CeilMode && (o - 1) * s >= size + p0) o--;
        return o;
    }
}

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
