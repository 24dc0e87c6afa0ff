namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Local response normalization across channels:
/// y = x / (bias + alpha/size · Σ_{c'∈[c−⌊(size−1)/2⌋, c+⌈(size−1)/2⌉]} x_{c'}²)^beta.
/// </summary>
public sealed class LrnOp(int size, float alpha, float beta, float bias) : Op
{
    public int Size { get; } = size;
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public float Bias { get; } = bias;
    public override string Type => "LRN";
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0].Data; var xd = x.Data;
        int n = x.Dim(0), c = x.Dim(1), plane = x.Length / Math.Max(n * c, 1);
        int before = (Size - 1) / 2, after = Size - 1 - before;
        float scale = Alpha / Size;
        Threading.Workers.For(n * c, plane * Size, (s, e) =>
        {
            for (int nc = s; nc < e; nc++)
            {
                int b = nc / c, ch = nc % c;
                int lo = Math.Max(0, ch - before), hi = Math.Min(c - 1, ch + after);
                int baseOut = nc * plane;
                for (int p = 0; p < plane; p++)
                {
                    float sq = 0;
                    for (int k = lo; k <= hi; k++) { float v = xd[(b * c + k) * plane + p]; sq += v * v; }
                    y[baseOut + p] = xd[baseOut + p] / MathF.Pow(Bias + scale * sq, Beta);
                }
            }
        });
    }

    public override bool HasBackward => true;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var x = ctx.Inputs[0].Data; var g = ctx.OutputGrads[0].Data; var dx = gx.Data;
        int n = gx.Dim(0), c = gx.Dim(1), plane = gx.Length / Math.Max(n * c, 1);
        int before = (Size - 1) / 2, after = Size - 1 - before;
        float scale = Alpha / Size;
        // d_c = bias + scale·Σ_{window(c)} x²;  y_c = x_c·d_c^−β
        // dx_j = g_j·d_j^−β − 2·scale·β·x_j·Σ_{c : j ∈ window(c)} g_c·x_c·d_c^(−β−1)
        var d = new double[c];
        for (int b = 0; b < n; b++)
            for (int p = 0; p < plane; p++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    double sq = 0;
                    for (int k = Math.Max(0, ch - before); k <= Math.Min(c - 1, ch + after); k++) { double v = x[(b * c + k) * plane + p]; sq += v * v; }
                    d[ch] = Bias + scale * sq;
                }
                for (int j = 0; j < c; j++)
                {
                    int at = (b * c + j) * plane + p;
                    double acc = g[at] * Math.Pow(d[j], -Beta);
                    // c's window contains j when c − before ≤ j ≤ c + after, i.e. j − after ≤ c ≤ j + before.
                    double s = 0;
                    for (int ch = Math.Max(0, j - after); ch <= Math.Min(c - 1, j + before); ch++)
                    {
                        int cat = (b * c + ch) * plane + p;
                        s += g[cat] * x[cat] * Math.Pow(d[ch], -Beta - 1);
                    }
                    dx[at] += (float)(acc - 2 * scale * Beta * x[at] * s);
                }
            }
    }

    public override string Describe() => $"LRN(size={Size}, alpha={Alpha}, beta={Beta}, bias={Bias})";
}
