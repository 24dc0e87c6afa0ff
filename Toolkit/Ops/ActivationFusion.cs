using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// A Relu or Clip run inside the forward pass of the node before it (<see cref="OpContext.Fusion"/>): its op, its output
/// tensor and its context, where the mask bits go.
/// </summary>
internal sealed record ActivationFusion(MaskedUnaryOp Op, Tensor Output, OpContext Context);
