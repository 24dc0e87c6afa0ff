namespace TransferKit.Toolkit.Kernels;

/// <summary>Shape of a 2-D convolution: input N×C×H×W, filters M×(C/groups)×KH×KW, strides, dilations, pads.</summary>
public readonly record struct Conv2DGeometry(int Batch, int InChannels, int InHeight, int InWidth, int OutChannels, int KernelH, int KernelW,
    int StrideH, int StrideW, int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight, int Groups)
{
    public int OutHeight => (InHeight + PadTop + PadBottom - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    public int OutWidth => (InWidth + PadLeft + PadRight - DilationW * (KernelW - 1) - 1) / StrideW + 1;

    /// <summary>Input channels per group.</summary>
    public int GroupChannels => InChannels / Groups;
    /// <summary>Filters per group.</summary>
    public int GroupFilters => OutChannels / Groups;
    /// <summary>Rows of the unfolded (im2col) matrix: channels per group × kernel positions.</summary>
    public int Rows => GroupChannels * KernelH * KernelW;
    /// <summary>Output positions per image.</summary>
    public int Positions => OutHeight * OutWidth;

    /// <summary>1×1, stride 1, no padding: the input already is the unfolded matrix.</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    /// <summary>One filter per input channel (groups = C = M).</summary>
    public bool IsDepthwise => Groups == InChannels && Groups == OutChannels && Groups > 1;
}
