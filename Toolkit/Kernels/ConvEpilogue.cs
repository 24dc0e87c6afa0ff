namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Work a convolution kernel hands each finished stretch of its output, elements [start, start + length) of y, while
/// it is still in cache: a channel plane, a row of one, or (when a GEMM splits its columns across threads) the columns
/// of a row one thread computed; each element is handed over exactly once, and stretches on different threads never
/// overlap. A fused op's activation and residual add run here (see <see cref="Ops.FusedConvOp"/>), so the work must be
/// elementwise; the stretch is final once the call returns.
/// </summary>
public delegate void ConvEpilogue(int start, int length);
