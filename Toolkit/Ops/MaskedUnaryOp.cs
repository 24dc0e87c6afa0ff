using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// An activation whose derivative is 1 where lo &lt; y &lt; hi and 0 elsewhere (Relu, Clip). When backward follows
/// (<see cref="OpContext.RecordsForBackward"/>) the forward pass keeps that derivative as one bit per element
/// (<see cref="BitMask"/>), so backward reads neither the input nor the output and a training plan keeps neither.
/// </summary>
public abstract class MaskedUnaryOp : UnaryOp
{
    /// <summary>Lower bound of the open interval where the derivative is 1.</summary>
    protected abstract float PassLow { get; }

    /// <summary>Upper bound of that interval; NaN for none.</summary>
    protected abstract float PassHigh { get; }

    /// <summary>
    /// The bounds <see cref="UnaryOp.Apply"/> clamps to, IEEE maximum then minimum: y = min(max(x, Low), High), +∞ for no
    /// upper one (a batch norm before it then runs both in one pass); null when Apply is not such a clamp.
    /// </summary>
    internal virtual (float Low, float High)? ClampBounds => null;

    /// <summary>The open interval where the derivative is 1 (<see cref="PassLow"/>, <see cref="PassHigh"/>).</summary>
    internal (float Low, float High) PassInterval => (PassLow, PassHigh);

    public sealed override float Derivative(float x, float y) => BitMask.Passes(y, PassLow, PassHigh) ? 1 : 0;

    public sealed override bool GradientFromOutput => true;

    public override bool BackwardReadsOutput(int output) => false;

    /// <summary>The derivative bits of the last forward pass, with the element count they cover.</summary>
    sealed class Mask(int elements)
    {
        public readonly int Elements = elements;
        public readonly byte[] Bits = new byte[BitMask.Bytes(elements)];
    }

    /// <summary>The mask buffer of a context for <paramref name="elements"/> elements (made when missing).</summary>
    internal byte[] MaskBits(OpContext ctx, int elements)
    {
        if (ctx.State is not Mask mask || mask.Elements != elements) ctx.State = mask = new Mask(elements);
        return mask.Bits;
    }

    /// <summary>
    /// y = f(x) over [start, start + count) (x and y may be one array) and, with <paramref name="bits"/>, the mask bits
    /// of that range; <paramref name="start"/> is a multiple of 8 (the bytes of the range are the range's own).
    /// </summary>
    internal void ApplyRecording(float[] x, float[] y, int start, int count, byte[]? bits)
    {
        var span = y.AsSpan(start, count);
        Apply(x.AsSpan(start, count), span);
        if (bits != null) BitMask.PackOpenInterval(span, PassLow, PassHigh, bits.AsSpan(start >> 3, BitMask.Bytes(count)));
    }

    /// <summary>
    /// Records the mask bits of <paramref name="y"/>'s first <paramref name="elements"/> values as this op's output
    /// (written by the node before it, which ran this op inside its own forward pass) in the op's context.
    /// </summary>
    internal void RecordMask(OpContext ctx, float[] y, int elements)
    {
        var bits = MaskBits(ctx, elements);
        Workers.For(bits.Length, 32, (s, e) =>
            BitMask.PackOpenInterval(y.AsSpan(s * 8, Math.Min(e * 8, elements) - s * 8), PassLow, PassHigh, bits.AsSpan(s, e - s)));
    }

    public override void Forward(OpContext ctx)
    {
        if (!ctx.RecordsForBackward) { base.Forward(ctx); return; }
        var x = ctx.Inputs[0].Data; var y = ctx.Outputs[0].Data;
        int n = ctx.Inputs[0].Length;
        var bits = MaskBits(ctx, n);
        Workers.For(bits.Length, 32, (s, e) => ApplyRecording(x, y, s * 8, Math.Min(e * 8, n) - s * 8, bits));
    }

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        int n = gx.Length;
        if (ctx.State is not Mask mask || mask.Elements != n)
            throw new InvalidOperationException($"{Type} backward needs a forward pass that recorded its mask (OpContext.RecordsForBackward).");
        var bits = mask.Bits; var g = ctx.OutputGrads[0].Data; var d = gx.Data;
        bool add = !ctx.IsFresh(0);
        Workers.For(bits.Length, 32, (s, e) =>
        {
            int start = s * 8, count = Math.Min(e * 8, n) - start;
            BitMask.Select(bits.AsSpan(s, e - s), g.AsSpan(start, count), d.AsSpan(start, count), add);
        });
    }
}
