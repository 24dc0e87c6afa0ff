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

    public override string Describe() => $"LRN(size={Size}, alpha={Alpha}, beta={Beta}, bias={Bias})";
}
