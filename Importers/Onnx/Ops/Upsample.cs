using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Upsample (opsets 7–9; deprecated by Resize in 10) → <see cref="ResizeOp"/>: scales as an attribute (7) or a
/// constant input (9), mode nearest or linear, asymmetric coordinates, nearest rounding as ONNX Runtime does for it.
/// </summary>
public sealed class Upsample : IOnnxOp
{
    public string OpType => "Upsample";
    public int MinOpset => 7;
    public int MaxOpset => 9;

    public void Import(OnnxNodeContext ctx)
    {
        int rank = ctx.Shape(0).Length;
        var mode = Resize.ReadMode(ctx);
        var scales = ctx.Opset < 9
            ? ctx.Floats("scales") ?? throw ctx.Error("the scales attribute is required.")
            : ctx.Const(1).ToFloats();
        Resize.CheckScales(ctx, scales, rank);
        if (mode == ResizeMode.Linear)
            for (int a = 0; a < rank - 2; a++)
                if (scales[a] != 1f) throw ctx.Error($"linear interpolation of axis {a} (not one of the last two) is not supported; its scale must be 1.");
        ctx.Emit(new ResizeOp(mode, ResizeCoordinates.Asymmetric, ResizeRounding.Simple, scales, null), [0]);
    }
}
