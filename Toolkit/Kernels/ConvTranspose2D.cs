using System.Numerics.Tensors;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// 2-D transposed convolution, expressed through the convolution it is the adjoint of. <c>g</c> is that convolution's
/// geometry: its input is the transposed convolution's output y [N, M·…] (InChannels = output channels, InHeight/InWidth
/// = output size), its filters are the transposed convolution's weights [C, M/groups, KH, KW] (OutChannels = C, the
/// transposed convolution's input channels), and its output is the transposed convolution's input x [N, C, H, W].
/// So y = conv_backward_data(x, W), dx = conv(dy, W) and dW = conv_backward_weight(input dy, output gradient x): the
/// im2col/GEMM, Winograd and depthwise machinery of <see cref="Conv2D"/> does all the work.
/// <see cref="Reference.ReferenceConvTranspose2D"/> is the plain loop they must equal.
/// </summary>
public static class ConvTranspose2D
{
    /// <summary>Scratch floats <see cref="Forward"/> needs.</summary>
    public static long WorkspaceLength(in Conv2DGeometry g) => Conv2D.BackwardWorkspaceLength(g);

    /// <summary>Scratch floats <see cref="BackwardData"/> and <see cref="BackwardWeight"/> need (the larger of the two).</summary>
    public static long BackwardWorkspaceLength(in Conv2DGeometry g) => Math.Max(Conv2D.WorkspaceLength(g), Conv2D.BackwardWorkspaceLength(g));

    /// <summary>y = conv_transpose(x, w) + bias: x [N, C, H, W], w [C, M/groups, KH, KW], bias length M or empty; y is set.</summary>
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<float> workspace)
    {
        Conv2D.BackwardData(g, x, w, y, workspace, add: false);
        if (bias.IsEmpty) return;
        int plane = g.InHeight * g.InWidth, channels = g.InChannels;
        for (int n = 0; n < g.Batch; n++)
            for (int m = 0; m < channels; m++)
            {
                var dst = y.Slice((n * channels + m) * plane, plane);
                TensorPrimitives.Add(dst, bias[m], dst);
            }
    }

    /// <summary>dx = conv(dy, w) (set when <paramref name="add"/> is false, added otherwise).</summary>
    public static void BackwardData(in Conv2DGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, Span<float> workspace, bool add)
    {
        if (!add) { Conv2D.Forward(g, dy, w, default, dx, workspace); return; }
        var tmp = new float[dx.Length];
        Conv2D.Forward(g, dy, w, default, tmp, workspace);
        TensorPrimitives.Add(dx, tmp, dx);
    }

    /// <summary>dW += Σ_n x_n ⋆ dy_n: the convolution's weight gradient with dy as its input and x as its output gradient.</summary>
    public static void BackwardWeight(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> workspace) =>
        Conv2D.BackwardWeight(g, dy, x, dw, workspace);

    /// <summary>dB += Σ dy over batch and space, per output channel.</summary>
    public static void BackwardBias(in Conv2DGeometry g, ReadOnlySpan<float> dy, Span<float> db)
    {
        int plane = g.InHeight * g.InWidth, channels = g.InChannels;
        for (int m = 0; m < channels; m++)
        {
            float acc = 0;
            for (int n = 0; n < g.Batch; n++) acc += TensorPrimitives.Sum(dy.Slice((n * channels + m) * plane, plane));
            db[m] += acc;
        }
    }
}
