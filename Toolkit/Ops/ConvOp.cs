using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Convolution (1-D or 2-D, grouped, strided, dilated, padded). Inputs: x [N,C,…], W [M,C/group,k…], optional B [M].
/// Gradient: dx = conv_transpose(g, W), dW = correlate(x, g), dB = Σ g over N and space.
/// </summary>
public sealed class ConvOp(WindowSpec window, int group) : Op
{
    public WindowSpec Window { get; } = window;
    public int Group { get; } = group;
    public override string Type => "Conv";

    public Conv2DGeometry Geometry(int[] x, int[] w)
    {
        Window.CheckInput(x, "Conv");
        if (w.Length != x.Length) throw new ShapeException($"Conv weight {Shapes.Format(w)} does not match input {Shapes.Format(x)}.");
        if (Group < 1 || x[1] % Group != 0 || w[0] % Group != 0)
            throw new ShapeException($"Conv group {Group} does not divide channels {x[1]} and filters {w[0]}.");
        if (w[1] * Group != x[1])
            throw new ShapeException($"Conv weight {Shapes.Format(w)} expects {w[1] * Group} input channels; the input has {x[1]}.");
        var (begin, end) = Window.ResolvePads(x.AsSpan(2));
        var (h, wd) = WindowSpec.HW(x);
        var (kh, kw) = WindowSpec.HW(w);
        bool twoD = x.Length == 4;
        var g = new Conv2DGeometry(x[0], x[1], h, wd, w[0], kh, kw,
            twoD ? Window.Strides[0] : 1, Window.Strides[^1], twoD ? Window.Dilations[0] : 1, Window.Dilations[^1],
            twoD ? begin[0] : 0, begin[^1], twoD ? end[0] : 0, end[^1], Group);
        if (g.OutHeight <= 0 || g.OutWidth <= 0)
            throw new ShapeException($"Conv window {Window.Format()} does not fit input {Shapes.Format(x)}.");
        return g;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var g = Geometry(inputs[0], inputs[1]);
        if (inputs.Count > 2 && Shapes.ElementCount(inputs[2]) != g.OutChannels)
            throw new ShapeException($"Conv bias has {Shapes.ElementCount(inputs[2])} elements for {g.OutChannels} filters.");
        return [inputs[0].Length == 4 ? [g.Batch, g.OutChannels, g.OutHeight, g.OutWidth] : [g.Batch, g.OutChannels, g.OutWidth]];
    }

    public override long WorkspaceLength(IReadOnlyList<int[]> inputs) => Conv2D.WorkspaceLength(Geometry(inputs[0], inputs[1]));

    public override long BackwardWorkspaceLength(IReadOnlyList<int[]> inputs) => Conv2D.BackwardWorkspaceLength(Geometry(inputs[0], inputs[1]));

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var w = ctx.Inputs[1];
        var g = Geometry(x.ShapeArray, w.ShapeArray);
        ReadOnlySpan<float> bias = ctx.Inputs.Length > 2 ? ctx.Inputs[2].Span : default;
        // The plan sized the workspace for the thread count of its time; a later, larger setting needs more.
        long need = Conv2D.WorkspaceLength(g);
        var ws = ctx.Workspace.Length >= need ? ctx.Workspace : new float[need];
        if (ctx.Fusion is not { } f) { Conv2D.Forward(g, x.Span, w.Span, bias, ctx.Outputs[0].Span, ws); return; }
        // A Relu or Clip after it in a training plan: its bounds applied in the kernel's registers, its output written
        // here, its mask bits recorded from that output (the convolution's own output is never written).
        var (lo, hi) = f.Op.ClampBounds ?? throw new InvalidOperationException($"{f.Op.Type} is not a clamp a convolution can apply.");
        Conv2D.Forward(g, x.Span, w.Span, bias, f.Output.Span, ws, clamp: new ConvClamp(lo, hi));
        if (f.Context.RecordsForBackward) f.Op.RecordMask(f.Context, f.Output.Data, f.Output.Length);
    }

    public override bool HasBackward => true;

    /// <summary>The input gradient is set whole when fresh; weight and bias gradients always add.</summary>
    public override bool OverwritesInputGrad(int input) => input == 0;

    /// <summary>Backward reads the inputs (and the forward's saved state), never the output.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var w = ctx.Inputs[1]; var dy = ctx.OutputGrads[0];
        var g = Geometry(x.ShapeArray, w.ShapeArray);
        long need = Conv2D.BackwardWorkspaceLength(g);
        var ws = ctx.Workspace.Length >= need ? ctx.Workspace : new float[need];
        if (ctx.InputGrads[0] is { } gx) Conv2D.BackwardData(g, dy.Span, w.Span, gx.Span, ws, add: !ctx.IsFresh(0));
        if (ctx.InputGrads[1] is { } gw) Conv2D.BackwardWeight(g, x.Span, dy.Span, gw.Span, ws);
        if (ctx.InputGrads.Length > 2 && ctx.InputGrads[2] is { } gb) Conv2D.BackwardBias(g, dy.Span, gb.Span);
    }

    public override string Describe() => $"Conv({Window.Format()}, group={Group})";
}
