namespace TransferKit.Toolkit.Kernels.Reference;

/// <summary>The plain seven-deep loop of a grouped, strided, dilated, padded 2-D convolution, accumulated in double.</summary>
public static class ReferenceConv2D
{
    public static void Forward(in Conv2DGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        int cg = g.InChannels / g.Groups, mg = g.OutChannels / g.Groups, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int m = 0; m < g.OutChannels; m++)
            {
                int grp = m / mg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double acc = bias.IsEmpty ? 0 : bias[m];
                        for (int c = 0; c < cg; c++)
                            for (int u = 0; u < g.KernelH; u++)
                            {
                                int yy = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (yy < 0 || yy >= g.InHeight) continue;
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int xx = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (xx < 0 || xx >= g.InWidth) continue;
                                    acc += (double)x[((n * g.InChannels + grp * cg + c) * g.InHeight + yy) * g.InWidth + xx]
                                           * w[((m * cg + c) * g.KernelH + u) * g.KernelW + v];
                                }
                            }
                        y[((n * g.OutChannels + m) * oh + i) * ow + j] = (float)acc;
                    }
            }
    }
}
