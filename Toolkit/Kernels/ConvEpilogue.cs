namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Work a convolution kernel hands each finished stretch of its output, elements [start, start + length) of y, while
/// it is still in cache: whole channel planes (or rows of them), never split across threads. A fused op's activation
/// and residual add run here (see <see cref="Ops.FusedConvOp"/>); the stretch is final once the call returns.
/// </summary>
public delegate void ConvEpilogue(int start, int length);
