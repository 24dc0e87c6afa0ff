namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>
/// Resize as the ONNX specification states it, one output element at a time: every axis maps its output coordinate
/// back to the input (<see cref="ResizeGeometry.Original"/>); nearest mode rounds it on every axis, linear mode rounds
/// the leading axes (their scale is 1) and interpolates the last two between their two neighbours, clamped to the edge.
/// Coordinates outside the region of interest (tf_crop_and_resize) give the extrapolation value. The backward is the
/// adjoint: each output gradient is added back with the same weights.
/// </summary>
public static class ReferenceResize
{
    /// <summary>Visits every (output element, input element, weight) of the forward, and the output elements that extrapolate (input −1).</summary>
    static void Taps(ResizeGeometry g, Action<long, long, double> visit)
    {
        int rank = g.In.Length;
        var idx = new int[rank];
        long total = g.OutputLength;
        for (long o = 0; o < total; o++)
        {
            long rem = o;
            for (int a = rank - 1; a >= 0; a--) { idx[a] = (int)(rem % g.Out[a]); rem /= g.Out[a]; }
            // Per axis: up to two (index, weight) pairs.
            var taps = new List<(long Offset, double Weight)> { (0, 1.0) };
            bool outside = false;
            long stride = 1;
            var strides = new long[rank];
            for (int a = rank - 1; a >= 0; a--) { strides[a] = stride; stride *= g.In[a]; }
            for (int a = 0; a < rank && !outside; a++)
            {
                float c = g.Original(a, idx[a]);
                if (g.Extrapolates(a, c)) { outside = true; break; }
                int len = g.In[a];
                var next = new List<(long, double)>();
                if (g.Mode == ResizeMode.Linear && a >= rank - 2)
                {
                    double cc = Math.Clamp(c, 0, len - 1);
                    int i0 = (int)Math.Floor(cc), i1 = Math.Min(i0 + 1, len - 1);
                    double f = cc - i0;
                    foreach (var (off, w) in taps) { next.Add((off + i0 * strides[a], w * (1 - f))); next.Add((off + i1 * strides[a], w * f)); }
                }
                else
                {
                    int i = g.Nearest(a, c);
                    foreach (var (off, w) in taps) next.Add((off + i * strides[a], w));
                }
                taps = next;
            }
            if (outside) { visit(o, -1, 0); continue; }
            foreach (var (off, w) in taps) visit(o, off, w);
        }
    }

    /// <summary>y = resize(x) (set).</summary>
    public static void Forward(ResizeGeometry g, float[] x, float[] y)
    {
        var acc = new double[y.Length];
        Taps(g, (o, i, w) => acc[o] += i < 0 ? g.ExtrapolationValue : w * x[i]);
        for (int i = 0; i < y.Length; i++) y[i] = (float)acc[i];
    }

    /// <summary>dx += resizeᵀ(dy): every output gradient added back to the inputs it read, with the same weights.</summary>
    public static void Backward(ResizeGeometry g, float[] dy, float[] dx)
    {
        var acc = new double[dx.Length];
        Taps(g, (o, i, w) => { if (i >= 0) acc[i] += w * dy[o]; });
        for (int i = 0; i < dx.Length; i++) dx[i] = (float)(dx[i] + acc[i]);
    }
}
