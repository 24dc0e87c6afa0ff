using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>ONNX auto_pad modes of convolution and pooling.</summary>
public enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>Window geometry shared by Conv and the pooling ops (1-D and 2-D; 1-D runs as height 1).</summary>
public sealed record WindowSpec(int[] Kernel, int[] Strides, int[] Dilations, int[] Pads, AutoPad AutoPad)
{
    public int SpatialRank => Kernel.Length;

    /// <summary>Begin and end pads for each spatial axis given the input size (auto_pad resolved).</summary>
    public (int[] Begin, int[] End) ResolvePads(ReadOnlySpan<int> spatial)
    {
        int r = SpatialRank;
        var begin = new int[r]; var end = new int[r];
        for (int i = 0; i < r; i++)
        {
            switch (AutoPad)
            {
                case AutoPad.SameUpper:
                case AutoPad.SameLower:
                    int outSize = (spatial[i] + Strides[i] - 1) / Strides[i];
                    int total = Math.Max(0, (outSize - 1) * Strides[i] + (Kernel[i] - 1) * Dilations[i] + 1 - spatial[i]);
                    begin[i] = AutoPad == AutoPad.SameUpper ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                    break;
                case AutoPad.Valid: break;
                default:
                    begin[i] = Pads.Length > 0 ? Pads[i] : 0;
                    end[i] = Pads.Length > 0 ? Pads[i + r] : 0;
                    break;
            }
        }
        return (begin, end);
    }

    /// <summary>Checks that the input is N×C×spatial with the spec's spatial rank (1 or 2).</summary>
    public void CheckInput(int[] x, string op)
    {
        if (x.Length != SpatialRank + 2)
            throw new ShapeException($"{op} with a {SpatialRank}-D window needs a rank-{SpatialRank + 2} input, got {Shapes.Format(x)}.");
        if (SpatialRank is < 1 or > 2)
            throw new ShapeException($"{op} supports 1-D and 2-D windows; this one is {SpatialRank}-D.");
    }

    /// <summary>(height, width) of a 1-D or 2-D spatial shape; 1-D is height 1.</summary>
    public static (int H, int W) HW(ReadOnlySpan<int> x) => x.Length == 4 ? (x[2], x[3]) : (1, x[2]);

    public string Format() =>
        $"kernel=[{string.Join(",", Kernel)}], strides=[{string.Join(",", Strides)}], dilations=[{string.Join(",", Dilations)}], " +
        (AutoPad == AutoPad.NotSet ? $"pads=[{string.Join(",", Pads)}]" : $"auto_pad={AutoPad}");
}
