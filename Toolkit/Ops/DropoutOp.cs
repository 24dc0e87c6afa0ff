namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Dropout: identity at inference; in training y = x·mask/(1 − ratio), where the mask comes from a counter-based hash
/// of (seed, step, element) so a run is reproducible for any thread count. Gradient: dx = g·mask/(1 − ratio).
/// </summary>
public sealed class DropoutOp(float ratio) : Op
{
    public float Ratio { get; } = ratio;
    /// <summary>Seed of the masks (set by the trainer).</summary>
    public ulong Seed { get; set; }
    public override string Type => "Dropout";
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];

    /// <summary>Whether element i is kept at a step: a SplitMix64 hash of (seed, step, i) compared with the ratio.</summary>
    public bool Keep(long step, int i)
    {
        ulong z = Seed + 0x9E3779B97F4A7C15UL * (ulong)(step + 1) + 0xBF58476D1CE4E5B9UL * (ulong)(i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) / (double)(1UL << 24) >= Ratio;
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0].Span; var y = ctx.Outputs[0].Span;
        if (!ctx.Training || Ratio == 0) { x.CopyTo(y); return; }
        float scale = 1f / (1f - Ratio);
        for (int i = 0; i < y.Length; i++) y[i] = Keep(ctx.Step, i) ? x[i] * scale : 0;
    }

    public override bool HasBackward => true;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0].Span; var d = gx.Span;
        if (!ctx.Training || Ratio == 0) { System.Numerics.Tensors.TensorPrimitives.Add(d, g, d); return; }
        float scale = 1f / (1f - Ratio);
        for (int i = 0; i < d.Length; i++) if (Keep(ctx.Step, i)) d[i] += g[i] * scale;
    }

    public override string Describe() => $"Dropout(ratio={Ratio})";
}
