namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Shape of a 2-D pooling window. Output size follows ONNX Runtime: floor((in + pads − dilation·(k − 1) − 1)/stride) + 1,
/// or ceil(...) + 1 with ceil_mode, dropping a last window that would start inside the end padding.
/// </summary>
public readonly record struct Pool2DGeometry(int Batch, int Channels, int InHeight, int InWidth, int KernelH, int KernelW, int StrideH, int StrideW,
    int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight, bool CeilMode, bool CountIncludePad)
{
    public int OutHeight => Out(InHeight, PadTop, PadBottom, KernelH, StrideH, DilationH);
    public int OutWidth => Out(InWidth, PadLeft, PadRight, KernelW, StrideW, DilationW);

    int Out(int size, int p0, int p1, int k, int s, int d)
    {
        int span = size + p0 + p1 - d * (k - 1) - 1;
        int o = CeilMode ? (span + s - 1) / s + 1 : span / s + 1;
        if (CeilMode && (o - 1) * s >= size + p0) o--;
        return o;
    }
}

