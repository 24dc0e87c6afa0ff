using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>
/// ONNX Resize → <see cref="ResizeOp"/>. Opset 10: (X, scales), asymmetric coordinates, nearest rounding as ONNX Runtime
/// did before nearest_mode existed. Opset 11+: (X, roi, scales, sizes) with mode nearest or linear,
/// coordinate_transformation_mode, nearest_mode, extrapolation_value; 18+: axes. Scales, sizes and roi must be constants
/// (initializers, Constant nodes or folded shape arithmetic). Refused with a clear error: cubic mode, exclude_outside,
/// antialias, keep_aspect_ratio_policy other than stretch, linear interpolation of axes other than the last two.
/// align_corners with scales divides by in·scale − 1, as the specification and its conformance data do; ONNX Runtime
/// divides by the floored output size − 1, which differs only when in·scale is not a whole number.
/// </summary>
public sealed class Resize : IOnnxOp
{
    public string OpType => "Resize";
    public int MinOpset => 10;

    public void Import(OnnxNodeContext ctx)
    {
        int rank = ctx.Shape(0).Length;
        var mode = ReadMode(ctx);
        if (ctx.Opset < 11)
        {
            var s = ctx.Const(1).ToFloats();
            ctx.Emit(new ResizeOp(mode, ResizeCoordinates.Asymmetric, ResizeRounding.Simple, CheckScales(ctx, s, rank), null), [0]);
            return;
        }
        if (ctx.Int("exclude_outside", 0) != 0) throw ctx.Error("exclude_outside=1 is not supported (it only matters for cubic mode, which is not supported).");
        if (ctx.Int("antialias", 0) != 0) throw ctx.Error("antialias=1 is not supported.");
        var policy = ctx.String("keep_aspect_ratio_policy", "stretch");
        if (policy != "stretch") throw ctx.Error($"keep_aspect_ratio_policy '{policy}' is not supported (stretch is).");
        var coordinates = ctx.String("coordinate_transformation_mode", "half_pixel") switch
        {
            "half_pixel" => ResizeCoordinates.HalfPixel,
            "pytorch_half_pixel" => ResizeCoordinates.PytorchHalfPixel,
            "align_corners" => ResizeCoordinates.AlignCorners,
            "asymmetric" => ResizeCoordinates.Asymmetric,
            "tf_half_pixel_for_nn" => ResizeCoordinates.TfHalfPixelForNearest,
            "tf_crop_and_resize" => ResizeCoordinates.TfCropAndResize,
            "half_pixel_symmetric" => throw ctx.Error("coordinate_transformation_mode 'half_pixel_symmetric' is not supported."),
            var m => throw ctx.Error($"coordinate_transformation_mode '{m}' is not an ONNX value."),
        };
        var rounding = ctx.String("nearest_mode", "round_prefer_floor") switch
        {
            "round_prefer_floor" => ResizeRounding.RoundPreferFloor,
            "round_prefer_ceil" => ResizeRounding.RoundPreferCeil,
            "floor" => ResizeRounding.Floor,
            "ceil" => ResizeRounding.Ceil,
            var m => throw ctx.Error($"nearest_mode '{m}' is not an ONNX value."),
        };
        var axes = ctx.Opset >= 18 ? ctx.Ints("axes")?.Select(a => a < 0 ? a + rank : a).ToArray() : null;
        if (axes != null && (axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != axes.Length))
            throw ctx.Error($"axes [{string.Join(",", axes)}] are not distinct axes of a rank-{rank} input.");
        float[]? roi = null;
        if (coordinates == ResizeCoordinates.TfCropAndResize)
        {
            if (!ctx.HasInput(1)) throw ctx.Error("tf_crop_and_resize needs the roi input.");
            roi = Expand(ctx, ctx.Const(1).ToFloats(), axes, rank, pairs: true, fill: (0f, 1f));
        }
        float[]? scales = null; int[]? sizes = null;
        var scaleValues = ctx.HasInput(2) ? ctx.Const(2).ToFloats() : [];
        if (scaleValues.Length > 0)
        {
            if (ctx.HasInput(3) && ctx.Const(3).Length > 0) throw ctx.Error("scales and sizes are both given; ONNX allows only one.");
            scales = CheckScales(ctx, Expand(ctx, scaleValues, axes, rank, pairs: false, fill: (1f, 1f)), rank);
        }
        else
        {
            if (!ctx.HasInput(3)) throw ctx.Error("neither scales nor sizes is given.");
            var given = ctx.Const(3).ToInts();
            var full = ctx.Shape(0).ToArray();
            var list = axes ?? Enumerable.Range(0, rank).ToArray();
            if (given.Length != list.Length) throw ctx.Error($"{given.Length} sizes for {list.Length} axes.");
            for (int i = 0; i < list.Length; i++) full[list[i]] = given[i];
            // The batch follows the input at run time: a size equal to the import-time batch means "keep it" (0).
            if (full[0] == ctx.Shape(0)[0]) full[0] = 0;
            sizes = full;
        }
        if (mode == ResizeMode.Linear && rank > 2)
        {
            for (int a = 0; a < rank - 2; a++)
            {
                bool keeps = scales != null ? scales[a] == 1f : sizes![a] == 0 || sizes[a] == ctx.Shape(0)[a];
                if (!keeps) throw ctx.Error($"linear interpolation of axis {a} (not one of the last two) is not supported; its scale must be 1.");
            }
        }
        ctx.Emit(new ResizeOp(mode, coordinates, rounding, scales, sizes, roi, ctx.Float("extrapolation_value", 0f)), [0]);
    }

    /// <summary>Reads mode: nearest or linear (cubic is refused).</summary>
    internal static ResizeMode ReadMode(OnnxNodeContext ctx) => ctx.String("mode", "nearest") switch
    {
        "nearest" => ResizeMode.Nearest,
        "linear" or "bilinear" => ResizeMode.Linear,
        "cubic" => throw ctx.Error("mode 'cubic' is not supported (nearest and linear are)."),
        var m => throw ctx.Error($"mode '{m}' is not an ONNX value."),
    };

    internal static float[] CheckScales(OnnxNodeContext ctx, float[] scales, int rank)
    {
        if (scales.Length != rank) throw ctx.Error($"{scales.Length} scales for a rank-{rank} input.");
        if (scales.Any(s => !(s > 0))) throw ctx.Error($"scales [{string.Join(",", scales)}] must be positive.");
        return scales;
    }

    /// <summary>Values given for <paramref name="axes"/> only, spread over every axis (the others get <paramref name="fill"/>).</summary>
    static float[] Expand(OnnxNodeContext ctx, float[] values, int[]? axes, int rank, bool pairs, (float Start, float End) fill)
    {
        if (axes == null) return values;
        int k = axes.Length;
        if (values.Length != (pairs ? 2 * k : k)) throw ctx.Error($"{values.Length} values for {k} axes.");
        var full = new float[pairs ? 2 * rank : rank];
        for (int a = 0; a < rank; a++) { full[a] = fill.Start; if (pairs) full[a + rank] = fill.End; }
        for (int i = 0; i < k; i++)
        {
            full[axes[i]] = values[i];
            if (pairs) full[axes[i] + rank] = values[i + k];
        }
        return full;
    }
}
