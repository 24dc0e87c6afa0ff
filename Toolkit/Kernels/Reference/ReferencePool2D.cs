namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>
/// The plain loops of max and average pooling, one output element at a time: the semantics <see cref="Pool2D"/> must
/// equal. Padding never wins a max (the first maximum in row-major window order is the arg-max); the average divides
/// by the number of window taps inside the padded input (count_include_pad) or inside the real input.
/// </summary>
public static class ReferencePool2D
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

    /// <summary>Taps of one window axis that fall inside the padded extent (window starts are never before it).</summary>
    static int PaddedTaps(int start, int kernel, int dilation, int size, int padEnd)
    {
        int padded = 0;
        for (int u = 0; u < kernel; u++) if (start + u * dilation < size + padEnd) padded++;
        return padded;
    }

    /// <summary>Plane offsets (y·W + x) of the taps of output (i, j) that fall inside the input, in row-major window order.</summary>
    static List<int> Window(in Pool2DGeometry g, int i, int j)
    {
        var taps = new List<int>();
        int h0 = i * g.StrideH - g.PadTop, w0 = j * g.StrideW - g.PadLeft;
        for (int u = 0; u < g.KernelH; u++)
            for (int v = 0; v < g.KernelW; v++)
            {
                int yy = h0 + u * g.DilationH, xx = w0 + v * g.DilationW;
                if (yy >= 0 && yy < g.InHeight && xx >= 0 && xx < g.InWidth) taps.Add(yy * g.InWidth + xx);
            }
        return taps;
    }

    /// <summary>The average's divisor at output (i, j): taps inside the padded input, or inside the real input.</summary>
    static int Divisor(in Pool2DGeometry g, int i, int j, int realTaps) => g.CountIncludePad
        ? PaddedTaps(i * g.StrideH - g.PadTop, g.KernelH, g.DilationH, g.InHeight, g.PadBottom)
          * PaddedTaps(j * g.StrideW - g.PadLeft, g.KernelW, g.DilationW, g.InWidth, g.PadRight)
        : realTaps;

    public static void AverageForward(in Pool2DGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.InHeight * g.InWidth;
        for (int p = 0; p < g.Batch * g.Channels; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    var taps = Window(g, i, j);
                    float acc = 0;
                    foreach (var t in taps) acc += x[p * plane + t];
                    int count = Divisor(g, i, j, taps.Count);
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
                    var taps = Window(g, i, j);
                    int count = Divisor(g, i, j, taps.Count);
                    if (count <= 0) continue;
                    float share = dy[(p * oh + i) * ow + j] / count;
                    foreach (var t in taps) dx[p * plane + t] += share;
                }
    }

    public static void GlobalAverage(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++)
        {
            double acc = 0;
            for (int q = 0; q < planeSize; q++) acc += x[p * planeSize + q];
            y[p] = (float)(acc / planeSize);
        }
    }

    public static void GlobalMax(int planes, int planeSize, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++)
        {
            float best = float.NegativeInfinity;
            for (int q = 0; q < planeSize; q++) best = Math.Max(best, x[p * planeSize + q]);
            y[p] = best;
        }
    }
}
