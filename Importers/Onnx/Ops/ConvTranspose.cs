using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX ConvTranspose (X, W, optional B; group, strides, dilations, pads, auto_pad, output_padding, output_shape)
/// → <see cref="ConvTransposeOp"/>. W [C, M/group, k…] and B are weights.
/// </summary>
public sealed class ConvTranspose : IOnnxOp
{
    public string OpType => "ConvTranspose";

    public void Import(OnnxNodeContext ctx)
    {
        var w = ctx.Shape(1);
        var kernel = ctx.Ints("kernel_shape") ?? w[2..];
        if (!kernel.SequenceEqual(w[2..])) throw ctx.Error($"kernel_shape [{string.Join(",", kernel)}] does not match the weight's [{string.Join(",", w[2..])}].");
        var window = Window.Read(ctx, kernel);
        int r = kernel.Length;
        var outputPadding = ctx.Ints("output_padding") ?? new int[r];
        var outputShape = ctx.Ints("output_shape");
        // output_shape may list the full N, C, spatial shape; only the spatial part counts.
        if (outputShape != null && outputShape.Length == r + 2) outputShape = outputShape[2..];
        if (outputPadding.Length != r || (outputShape != null && outputShape.Length != r))
            throw ctx.Error($"output_padding/output_shape do not match a {r}-D kernel.");
        if (outputPadding.Any(p => p < 0) || (outputShape?.Any(s => s < 1) ?? false))
            throw ctx.Error("output_padding must be non-negative and output_shape positive.");
        var op = new ConvTransposeOp(window, (int)ctx.Int("group", 1), outputPadding, outputShape);
        ctx.Emit(op, ctx.HasInput(2) ? [0, 1, 2] : [0, 1]);
    }
}
