using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// Which constant inputs of a runtime op are weights (trainable parameters) and which are constants. A weight is a
/// tensor in a weight slot: Conv and ConvTranspose W and B, Gemm B and C, the constant operand of a MatMul (rank ≥ 2), the
/// scale, bias and running statistics of BatchNormalization, the scale and bias of LayerNormalization,
/// InstanceNormalization and GroupNormalization, PRelu's slope, and an elementwise or Concat operand with more than
/// one element (a layer scale, a position embedding, a cls token), and the data of an Expand or Tile with more than one
/// element (a cls token expanded to the batch; the target shape or repeats are never graph values). Scalars and other one-element operands — the 3 and
/// 6 of a written-out hard-swish, an epsilon, a divisor — stay constants: never trained, not counted as parameters;
/// so do Pow's exponent, the operands of comparisons and of Where, whatever their size.
/// </summary>
public static class WeightSlots
{
    /// <summary>Whether input <paramref name="slot"/> of <paramref name="op"/>, a constant of <paramref name="shape"/>, is a weight.</summary>
    public static bool IsWeight(Op op, int slot, int[] shape) => op switch
    {
        ConvOp => slot >= 1,
        ConvTransposeOp => slot >= 1,
        GemmOp => slot >= 1,
        MatMulOp => shape.Length >= 2,
        BatchNormalizationOp => slot >= 1,
        NormalizationOp => slot >= 1,
        PReluOp => slot == 1,
        PowOp or CompareOp => false,
        BinaryOp or ConcatOp => Shapes.ElementCount(shape) > 1,
        ExpandOp or TileOp => slot == 0 && Shapes.ElementCount(shape) > 1,
        _ => false,
    };
}
