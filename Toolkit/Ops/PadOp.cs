using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>Padding mode of <see cref="PadOp"/>.</summary>
public enum PadMode { Constant, Reflect, Edge }

/// <summary>
/// Pad: pads[i] elements before and pads[rank+i] after axis i (negative pads crop). Constant, reflect or edge mode.
/// Gradient: dx = the sum of g over every output position that reads x.
/// </summary>
public sealed class PadOp(int[] pads, PadMode mode, float value) : Op
{
    public int[] Pads { get; } = pads;
    public PadMode Mode { get; } = mode;
    public float ConstantValue { get; } = value;
    public override string Type => "Pad";

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var x = inputs[0];
        if (Pads.Length != 2 * x.Length) throw new ShapeException($"Pad has {Pads.Length} pads for a rank-{x.Length} input.");
        var r = new int[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            r[i] = x[i] + Pads[i] + Pads[i + x.Length];
            if (r[i] < 0) throw new ShapeException($"Pad makes axis {i} negative.");
            if (Mode == PadMode.Reflect && (Pads[i] >= x[i] || Pads[i + x.Length] >= x[i]) && (Pads[i] > 0 || Pads[i + x.Length] > 0))
                throw new ShapeException($"Reflect pad {Pads[i]}/{Pads[i + x.Length]} is not smaller than axis {i} ({x[i]}).");
            if (Mode == PadMode.Edge && x[i] == 0 && r[i] > 0) throw new ShapeException("Edge pad of an empty axis.");
        }
        return [r];
    }

    /// <summary>The input index an output coordinate reads on one axis, or -1 for the constant.</summary>
    int Source(int o, int before, int len)
    {
        int i = o - before;
        if (i >= 0 && i < len) return i;
        switch (Mode)
        {
            case PadMode.Constant: return -1;
            case PadMode.Edge: return i < 0 ? 0 : len - 1;
            default:
                // Reflect without repeating the edge: −1 → 1, len → len − 2.
                if (len == 1) return 0;
                int period = 2 * (len - 1);
                i = ((i % period) + period) % period;
                return i < len ? i : period - i;
        }
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var y = ctx.Outputs[0];
        int rank = x.Rank;
        var xs = Shapes.Strides(x.Shape);
        var ys = y.ShapeArray;
        var idx = new int[rank];
        var yd = y.Data; var xd = x.Data;
        for (int flat = 0; flat < y.Length; flat++)
        {
            int rem = flat, src = 0;
            bool constant = false;
            for (int d = rank - 1; d >= 0; d--)
            {
                int o = rem % ys[d]; rem /= ys[d];
                int s = Source(o, Pads[d], x.Dim(d));
                if (s < 0) { constant = true; break; }
                src += s * xs[d];
            }
            yd[flat] = constant ? ConstantValue : xd[src];
        }
    }

    public override bool HasBackward => true;

    /// <summary>Backward moves the output gradient back into place; it reads no values.</summary>
    public override bool BackwardReadsInput(int input) => false;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var g = ctx.OutputGrads[0];
        int rank = gx.Rank;
        var xs = Shapes.Strides(gx.Shape);
        var ys = g.ShapeArray;
        for (int flat = 0; flat < g.Length; flat++)
        {
            int rem = flat, src = 0;
            bool constant = false;
            for (int d = rank - 1; d >= 0; d--)
            {
                int o = rem % ys[d]; rem /= ys[d];
                int s = Source(o, Pads[d], gx.Dim(d));
                if (s < 0) { constant = true; break; }
                src += s * xs[d];
            }
            if (!constant) gx.Data[src] += g.Data[flat];
        }
    }

    public override string Describe() => $"Pad({Mode}, [{string.Join(",", Pads)}])";
}
