using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>Reads the window attributes shared by Conv and the pooling ops.</summary>
static class Window
{
    public static WindowSpec Read(OnnxNodeContext ctx, int[] kernel)
    {
        int r = kernel.Length;
        var strides = ctx.Ints("strides") ?? Enumerable.Repeat(1, r).ToArray();
        var dilations = ctx.Ints("dilations") ?? Enumerable.Repeat(1, r).ToArray();
        var pads = ctx.Ints("pads") ?? new int[2 * r];
        var autoPad = ctx.String("auto_pad", "NOTSET") switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            var other => throw ctx.Error($"auto_pad '{other}' is not an ONNX value."),
        };
        if (strides.Length != r || dilations.Length != r || pads.Length != 2 * r)
            throw ctx.Error($"strides/dilations/pads do not match a {r}-D kernel.");
        if (r is < 1 or > 2) throw ctx.Error($"{r}-D windows are not supported (1-D and 2-D are).");
        if (strides.Any(s => s < 1) || dilations.Any(d => d < 1) || pads.Any(p => p < 0) || kernel.Any(k => k < 1))
            throw ctx.Error("kernel, strides and dilations must be positive and pads non-negative.");
        return new WindowSpec(kernel, strides, dilations, pads, autoPad);
    }
}
