using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Onnx.Ops;

/// <summary>ONNX Pad: pads/value as attributes before opset 11, as constant inputs after (axes from opset 18); constant, reflect, edge.</summary>
public sealed class Pad : IOnnxOp
{
    public string OpType => "Pad";

    public void Import(OnnxNodeContext ctx)
    {
        var mode = ctx.String("mode", "constant") switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            var m => throw ctx.Error($"mode '{m}' is not supported (constant, reflect and edge are)."),
        };
        int rank = ctx.Shape(0).Length;
        int[] pads; float value;
        if (ctx.Opset < 11)
        {
            pads = ctx.Ints(ctx.Opset < 2 ? "paddings" : "pads") ?? throw ctx.Error("pads are required.");
            value = ctx.Float("value", 0f);
        }
        else
        {
            var raw = ctx.Const(1).ToInts();
            value = ctx.HasInput(2) ? (float)ctx.Const(2).Data.Single() : 0f;
            if (ctx.HasInput(3))
            {
                // pads cover only the listed axes: scatter them into a full-rank list.
                var axes = ctx.Const(3).ToInts().Select(a => a < 0 ? a + rank : a).ToArray();
                pads = new int[2 * rank];
                for (int i = 0; i < axes.Length; i++) { pads[axes[i]] = raw[i]; pads[axes[i] + rank] = raw[i + axes.Length]; }
            }
            else pads = raw;
        }
        ctx.Emit(new PadOp(pads, mode, value), [0]);
    }
}
