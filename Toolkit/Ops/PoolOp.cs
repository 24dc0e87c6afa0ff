using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// MaxPool or AveragePool over a 1-D or 2-D window (pads, strides, dilations, ceil_mode, count_include_pad).
/// Gradient: max routes g to the arg-max; average spreads g/window over the window.
/// </summary>
public sealed class PoolOp(bool max, WindowSpec window, bool ceilMode, bool countIncludePad) : Op
{
    public bool IsMax { get; } = max;
    public WindowSpec Window { get; } = window;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;
    public override string Type => IsMax ? "MaxPool" : "AveragePool";

    public Pool2DGeometry Geometry(int[] x)
    {
        Window.CheckInput(x, Type);
        var (begin, end) = Window.ResolvePads(x.AsSpan(2));
        var (h, w) = WindowSpec.HW(x);
        bool twoD = x.Length == 4;
        var g = new Pool2DGeometry(x[0], x[1], h, w, twoD ? Window.Kernel[0] : 1, Window.Kernel[^1],
            twoD ? Window.Strides[0] : 1, Window.Strides[^1], twoD ? Window.Dilations[0] : 1, Window.Dilations[^1],
            twoD ? begin[0] : 0, begin[^1], twoD ? end[0] : 0, end[^1], CeilMode, CountIncludePad);
        if (g.OutHeight <= 0 || g.OutWidth <= 0)
            throw new ShapeException($"{Type} window {Window.Format()} does not fit input {Shapes.Format(x)}.");
        return g;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var g = Geometry(inputs[0]);
        return [inputs[0].Length == 4 ? [g.Batch, g.Channels, g.OutHeight, g.OutWidth] : [g.Batch, g.Channels, g.OutWidth]];
    }

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0];
        var g = Geometry(x.ShapeArray);
        if (IsMax) Pool2D.MaxForward(g, x.Span, ctx.Outputs[0].Span);
        else Pool2D.AverageForward(g, x.Span, ctx.Outputs[0].Span);
    }

    public override bool HasBackward => true;

    /// <summary>A small window per output: replayed by the forward pass.</summary>
    public override bool CanReplay => true;

    /// <summary>Max pooling clears each plane of a fresh input gradient just before scattering into it (while it is in cache).</summary>
    public override bool OverwritesInputGrad(int input) => IsMax;

    /// <summary>Max pooling finds each window's maximum again (input and output); average pooling reads no values.</summary>
    public override bool BackwardReadsInput(int input) => IsMax;

    /// <inheritdoc cref="BackwardReadsInput"/>
    public override bool BackwardReadsOutput(int output) => IsMax;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var x = ctx.Inputs[0];
        var g = Geometry(x.ShapeArray);
        if (IsMax) Pool2D.MaxBackward(g, x.Span, ctx.Outputs[0].Span, ctx.OutputGrads[0].Span, gx.Span, add: !ctx.IsFresh(0));
        else Pool2D.AverageBackward(g, ctx.OutputGrads[0].Span, gx.Span);
    }

    public override string Describe() =>
        $"{Type}({Window.Format()}, ceil_mode={CeilMode}{(IsMax ? "" : $", count_include_pad={CountIncludePad}")})";
}
