using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Transposed convolution (1-D or 2-D, grouped, strided, dilated, padded, output_padding, output_shape, auto_pad).
/// Inputs: x [N,C,…], W [C,M/group,k…], optional B [M]. Output size per axis:
/// s·(in − 1) + output_padding + (k − 1)·d + 1 − pad_begin − pad_end (or output_shape, the pads then derived from it).
/// Forward is the input-gradient pass of the convolution it is the adjoint of (<see cref="ConvTranspose2D"/>).
/// Gradient: dx = conv(g, W), dW = correlate(g, x) (the convolution's weight gradient), dB = Σ g over N and space.
/// </summary>
public sealed class ConvTransposeOp(WindowSpec window, int group, int[] outputPadding, int[]? outputShape) : Op
{
    /// <summary>Kernel, strides, dilations, pads and auto_pad (pads as ONNX writes them: begins, then ends).</summary>
    public WindowSpec Window { get; } = window;
    /// <summary>Groups the input and output channels are divided into.</summary>
    public int Group { get; } = group;
    /// <summary>Extra output rows/columns at the end of each spatial axis.</summary>
    public int[] OutputPadding { get; } = outputPadding;
    /// <summary>The requested spatial output size, or null to compute it from the pads.</summary>
    public int[]? OutputShape { get; } = outputShape;
    public override string Type => "ConvTranspose";

    /// <summary>The geometry of the convolution this op is the adjoint of (see <see cref="ConvTranspose2D"/>).</summary>
    public Conv2DGeometry Geometry(int[] x, int[] w)
    {
        Window.CheckInput(x, "ConvTranspose");
        int r = Window.SpatialRank;
        if (w.Length != x.Length) throw new ShapeException($"ConvTranspose weight {Shapes.Format(w)} does not match input {Shapes.Format(x)}.");
        if (Group < 1 || x[1] % Group != 0 || w[0] != x[1])
            throw new ShapeException($"ConvTranspose weight {Shapes.Format(w)} with group {Group} does not fit {x[1]} input channels.");
        if (OutputPadding.Length != r || (OutputShape != null && OutputShape.Length != r))
            throw new ShapeException($"ConvTranspose output_padding/output_shape do not match a {r}-D kernel.");
        var convPadBegin = new int[r]; var convPadEnd = new int[r]; var outSize = new int[r];
        for (int a = 0; a < r; a++)
        {
            int input = x[2 + a], k = w[2 + a], s = Window.Strides[a], d = Window.Dilations[a], op = OutputPadding[a];
            int natural = s * (input - 1) + (k - 1) * d + 1;
            int begin, end, extra = op;
            int? target = OutputShape?[a] ?? (Window.AutoPad is AutoPad.SameUpper or AutoPad.SameLower ? input * s : null);
            if (target is { } t)
            {
                int total = natural + op - t;
                if (total < 0) { begin = 0; end = 0; extra = t - natural; } // a larger output: zeros (and bias) at the end
                // The specification's split: with output_shape, the odd pad goes to the end under SAME_UPPER and to
                // the beginning otherwise (NOTSET included); auto_pad alone puts it at the end unless SAME_LOWER.
                else if (OutputShape != null ? Window.AutoPad != AutoPad.SameUpper : Window.AutoPad == AutoPad.SameLower) { begin = total - total / 2; end = total / 2; }
                else { begin = total / 2; end = total - total / 2; }
            }
            else if (Window.AutoPad == AutoPad.Valid) { begin = 0; end = 0; }
            else { begin = Window.Pads.Length > 0 ? Window.Pads[a] : 0; end = Window.Pads.Length > 0 ? Window.Pads[a + r] : 0; }
            outSize[a] = natural + extra - begin - end;
            if (outSize[a] <= 0) throw new ShapeException($"ConvTranspose {Window.Format()} gives an empty output for input {Shapes.Format(x)}.");
            // The adjoint convolution reads the output with these pads; its end pad is any value that gives back the
            // input size, the smallest non-negative one of them.
            int lo = end - extra;
            if (lo + s - 1 < 0)
                throw new ShapeException($"ConvTranspose output_padding/output_shape add {extra} rows on an axis with stride {s}; at most {s - 1 + end} are supported.");
            convPadBegin[a] = begin; convPadEnd[a] = Math.Max(0, lo);
        }
        bool twoD = r == 2;
        var g = new Conv2DGeometry(x[0], w[1] * Group, twoD ? outSize[0] : 1, outSize[^1], x[1], twoD ? w[2] : 1, w[^1],
            twoD ? Window.Strides[0] : 1, Window.Strides[^1], twoD ? Window.Dilations[0] : 1, Window.Dilations[^1],
            twoD ? convPadBegin[0] : 0, convPadBegin[^1], twoD ? convPadEnd[0] : 0, convPadEnd[^1], Group);
        if (g.OutHeight != (twoD ? x[2] : 1) || g.OutWidth != x[^1])
            throw new ShapeException($"ConvTranspose {Window.Format()} does not fit input {Shapes.Format(x)}.");
        return g;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var g = Geometry(inputs[0], inputs[1]);
        if (inputs.Count > 2 && Shapes.ElementCount(inputs[2]) != g.InChannels)
            throw new ShapeException($"ConvTranspose bias has {Shapes.ElementCount(inputs[2])} elements for {g.InChannels} output channels.");
        return [inputs[0].Length == 4 ? [g.Batch, g.InChannels, g.InHeight, g.InWidth] : [g.Batch, g.InChannels, g.InWidth]];
    }

    public override long WorkspaceLength(IReadOnlyList<int[]> inputs) => ConvTranspose2D.WorkspaceLength(Geometry(inputs[0], inputs[1]));

    public override long BackwardWorkspaceLength(IReadOnlyList<int[]> inputs) => ConvTranspose2D.BackwardWorkspaceLength(Geometry(inputs[0], inputs[1]));

    static float[] Workspace(float[] given, long need) => given.Length >= need ? given : new float[need];

    public override void Forward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var w = ctx.Inputs[1];
        var g = Geometry(x.ShapeArray, w.ShapeArray);
        ReadOnlySpan<float> bias = ctx.Inputs.Length > 2 ? ctx.Inputs[2].Span : default;
        ConvTranspose2D.Forward(g, x.Span, w.Span, bias, ctx.Outputs[0].Span, Workspace(ctx.Workspace, ConvTranspose2D.WorkspaceLength(g)));
    }

    public override bool HasBackward => true;

    /// <summary>The input gradient is set whole when fresh; weight and bias gradients always add.</summary>
    public override bool OverwritesInputGrad(int input) => input == 0;

    /// <summary>Backward reads the inputs, never the output.</summary>
    public override bool BackwardReadsOutput(int output) => false;

    public override void Backward(OpContext ctx)
    {
        var x = ctx.Inputs[0]; var w = ctx.Inputs[1]; var dy = ctx.OutputGrads[0];
        var g = Geometry(x.ShapeArray, w.ShapeArray);
        var ws = Workspace(ctx.Workspace, ConvTranspose2D.BackwardWorkspaceLength(g));
        if (ctx.InputGrads[0] is { } gx) ConvTranspose2D.BackwardData(g, dy.Span, w.Span, gx.Span, ws, add: !ctx.IsFresh(0));
        if (ctx.InputGrads[1] is { } gw) ConvTranspose2D.BackwardWeight(g, x.Span, dy.Span, gw.Span, ws);
        if (ctx.InputGrads.Length > 2 && ctx.InputGrads[2] is { } gb) ConvTranspose2D.BackwardBias(g, dy.Span, gb.Span);
    }

    public override string Describe() =>
        $"ConvTranspose({Window.Format()}, group={Group}" +
        (OutputPadding.Any(p => p != 0) ? $", output_padding=[{string.Join(",", OutputPadding)}]" : "") +
        (OutputShape != null ? $", output_shape=[{string.Join(",", OutputShape)}]" : "") + ")";
}
