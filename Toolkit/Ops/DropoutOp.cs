using System.Numerics;
using System.Runtime.Intrinsics;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Dropout: identity at inference; in training y = x·mask/(1 − ratio), where the mask comes from a counter-based hash
/// of (seed, step, element) so a run is reproducible for any thread count. Gradient: dx = g·mask/(1 − ratio). The
/// masks are hashed four elements at a time into blocks of scale-or-zero factors, across threads; backward hashes them
/// again rather than keeping them.
/// </summary>
public sealed class DropoutOp(float ratio) : Op
{
    const ulong StepMultiplier = 0x9E3779B97F4A7C15UL, Mix1 = 0xBF58476D1CE4E5B9UL, Mix2 = 0x94D049BB133111EBUL;

    /// <summary>Elements whose factors are hashed into one stack block.</summary>
    const int Block = 1024;

    public float Ratio { get; } = ratio;
    /// <summary>Seed of the masks (set by the trainer).</summary>
    public ulong Seed { get; set; }
    public override string Type => "Dropout";
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];

    /// <summary>Whether element i is kept at a step: a SplitMix64 hash of (seed, step, i) compared with the ratio.</summary>
    public bool Keep(long step, int i)
    {
        ulong z = Seed + StepMultiplier * (ulong)(step + 1) + Mix1 * (ulong)(i + 1);
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        z ^= z >> 31;
        return (z >> 40) / (double)(1UL << 24) >= Ratio;
    }

    /// <summary>
    /// factor[k] = <paramref name="scale"/> where element start + k is kept at the step, else 0: <see cref="Keep"/>
    /// four elements at a time. The top 24 bits h of the hash keep an element when h/2²⁴ ≥ ratio, that is when
    /// h ≥ ⌈ratio·2²⁴⌉ (exact: h is an integer and the scaling a power of two).
    /// </summary>
    public void Factors(long step, int start, Span<float> factor, float scale)
    {
        ulong a = Seed + StepMultiplier * (ulong)(step + 1);
        ulong threshold = (ulong)Math.Ceiling(Ratio * (double)(1UL << 24));
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(1UL, 2UL, 3UL, 4UL);
            var av = Vector256.Create(a); var m1 = Vector256.Create(Mix1); var m2 = Vector256.Create(Mix2);
            var t = Vector256.Create(threshold);
            for (; k <= factor.Length - 4; k += 4)
            {
                var z = av + m1 * (Vector256.Create((ulong)(start + k)) + lanes);
                z = (z ^ Vector256.ShiftRightLogical(z, 30)) * m1;
                z = (z ^ Vector256.ShiftRightLogical(z, 27)) * m2;
                z ^= Vector256.ShiftRightLogical(z, 31);
                uint keep = Vector256.GreaterThanOrEqual(Vector256.ShiftRightLogical(z, 40), t).ExtractMostSignificantBits();
                factor[k] = (keep & 1) != 0 ? scale : 0;
                factor[k + 1] = (keep & 2) != 0 ? scale : 0;
                factor[k + 2] = (keep & 4) != 0 ? scale : 0;
                factor[k + 3] = (keep & 8) != 0 ? scale : 0;
            }
        }
        for (; k < factor.Length; k++) factor[k] = Keep(step, start + k) ? scale : 0;
    }

    /// <summary>Calls body(start, factors) over [0, count) in blocks of <see cref="Block"/>, across threads.</summary>
    void ForBlocks(int count, long step, float scale, SpanAction body)
    {
        int blocks = (count + Block - 1) / Block;
        Workers.For(blocks, Block * 8, (b0, b1) =>
        {
            Span<float> factor = stackalloc float[Block];
            for (int b = b0; b < b1; b++)
            {
                int start = b * Block, n = Math.Min(Block, count - start);
                Factors(step, start, factor[..n], scale);
                body(start, factor[..n]);
            }
        });
    }

    delegate void SpanAction(int start, ReadOnlySpan<float> factor);

    /// <summary>
    /// With ratio 0 it is the identity in training too (a head fine-tuned without dropout in front of it): a view, as
    /// <see cref="IdentityOp"/> is, so a batch of cached features is not copied on its way into the head.
    /// </summary>
    public override bool IsView => Ratio == 0;

    public override void Forward(OpContext ctx)
    {
        if (IsView) return;   // the plan binds the output to the input's storage
        var x = ctx.Inputs[0].Data; var y = ctx.Outputs[0].Data; int n = ctx.Inputs[0].Length;
        if (!ctx.Training) { x.AsSpan(0, n).CopyTo(y); return; }
        // A dropped element is 0 whatever x holds (also ∞ or NaN), so the product is selected, not taken alone.
        ForBlocks(n, ctx.Step, 1f / (1f - Ratio), (start, f) => Select(x.AsSpan(start, f.Length), f, y.AsSpan(start, f.Length), add: false));
    }

    public override bool HasBackward => true;

    public override bool OverwritesInputGrad(int input) => true;

    /// <summary>Elementwise: dx[i] is written from g[i] alone.</summary>
    public override bool BackwardInPlace(int input) => true;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0].Data; var d = gx.Data; int n = gx.Length;
        bool add = !ctx.IsFresh(0);
        if (!ctx.Training || Ratio == 0)
        {
            if (add) System.Numerics.Tensors.TensorPrimitives.Add(d.AsSpan(0, n), g.AsSpan(0, n), d.AsSpan(0, n));
            else g.AsSpan(0, n).CopyTo(d);
            return;
        }
        ForBlocks(n, ctx.Step, 1f / (1f - Ratio), (start, f) => Select(g.AsSpan(start, f.Length), f, d.AsSpan(start, f.Length), add));
    }

    /// <summary>dst (+)= src·factor where factor ≠ 0, and (+)= 0 where it is 0; vectorized, the tail per element.</summary>
    static void Select(ReadOnlySpan<float> src, ReadOnlySpan<float> factor, Span<float> dst, bool add)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; i <= src.Length - w; i += w)
            {
                var f = new Vector<float>(factor.Slice(i, w));
                var v = Vector.ConditionalSelect(Vector.Equals(f, Vector<float>.Zero), Vector<float>.Zero, new Vector<float>(src.Slice(i, w)) * f);
                (add ? new Vector<float>(dst.Slice(i, w)) + v : v).CopyTo(dst.Slice(i, w));
            }
        }
        for (; i < src.Length; i++)
        {
            float v = factor[i] != 0 ? src[i] * factor[i] : 0;
            dst[i] = add ? dst[i] + v : v;
        }
    }

    public override string Describe() => $"Dropout(ratio={Ratio})";
}
