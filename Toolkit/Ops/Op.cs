using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// A differentiable operation of the engine: shape inference, forward and (where supported) backward,
/// side by side in one file per op. Ops hold their attributes; tensors arrive through <see cref="OpContext"/>.
/// </summary>
public abstract class Op
{
    /// <summary>The op's type name, as shown by inspect and used in error messages.</summary>
    public abstract string Type { get; }

    /// <summary>Output shapes for the given input shapes; throws <see cref="ShapeException"/> when they do not fit.</summary>
    public abstract int[][] InferShapes(IReadOnlyList<int[]> inputs);

    /// <summary>Scratch floats the forward pass needs for these input shapes.</summary>
    public virtual long WorkspaceLength(IReadOnlyList<int[]> inputs) => 0;

    /// <summary>Floats of shared scratch space <see cref="Backward"/> needs for these input shapes.</summary>
    public virtual long BackwardWorkspaceLength(IReadOnlyList<int[]> inputs) => 0;

    /// <summary>True when output 0 is the same elements as input 0 with another shape (no copy is made).</summary>
    public virtual bool IsView => false;

    /// <summary>Computes the outputs from the inputs.</summary>
    public abstract void Forward(OpContext ctx);

    /// <summary>Whether <see cref="Backward"/> is implemented.</summary>
    public virtual bool HasBackward => false;

    /// <summary>
    /// Adds the gradients of the inputs (ctx.InputGrads, null where not needed) given the output gradients
    /// (ctx.OutputGrads). Inputs and outputs of the forward pass are available in ctx.
    /// </summary>
    public virtual void Backward(OpContext ctx) =>
        throw new NotSupportedException($"{Type} has no backward pass.");

    /// <summary>
    /// Whether <see cref="Backward"/> reads the values of input <paramref name="input"/> (its shape is always there).
    /// When it does not, a training plan need not keep the input after the forward pass and may reuse its buffer.
    /// </summary>
    public virtual bool BackwardReadsInput(int input) => true;

    /// <summary>Whether <see cref="Backward"/> reads the values of output <paramref name="output"/> (see <see cref="BackwardReadsInput"/>).</summary>
    public virtual bool BackwardReadsOutput(int output) => true;

    /// <summary>
    /// Whether <see cref="Backward"/> sets every element of input <paramref name="input"/>'s gradient, instead of adding
    /// into it, when <see cref="OpContext.InputGradFresh"/> says the buffer holds no gradient yet. The training plan then
    /// skips zeroing that buffer, saving a pass over it and a read.
    /// </summary>
    public virtual bool OverwritesInputGrad(int input) => false;

    /// <summary>
    /// Whether <see cref="Replay"/> can compute the outputs again, cheaply (in the order of one pass over them), from the
    /// inputs and what the forward pass kept. A training plan then keeps neither the outputs nor their copies for
    /// backward: it replays the node just before the first backward step that reads them.
    /// </summary>
    public virtual bool CanReplay => false;

    /// <summary>
    /// Writes the outputs of the last forward pass again, bit for bit, from the same inputs, with no side effect (running
    /// statistics stay, no new randomness). Only for ops whose <see cref="CanReplay"/> is true; by default the forward
    /// pass, for ops that are pure functions of their inputs.
    /// </summary>
    public virtual void Replay(OpContext ctx) => Forward(ctx);

    /// <summary>
    /// Whether input <paramref name="input"/>'s gradient, when set rather than added to (<see cref="OverwritesInputGrad"/>),
    /// may be written over output 0's gradient in the same buffer: Backward reads each element of the output gradient
    /// before it writes that element of the input gradient and reads none after writing it (an elementwise gradient;
    /// batch norm, which sums a channel before writing it). A training plan then gives the two one buffer.
    /// </summary>
    public virtual bool BackwardInPlace(int input) => false;

    /// <summary>Whether <see cref="Replay"/> may write output 0 over input 0 in the same buffer (an elementwise function).</summary>
    public virtual bool ReplaysInPlace => false;

    /// <summary>A short human-readable attribute summary for inspect.</summary>
    public virtual string Describe() => Type;

    public override string ToString() => Describe();
}

/// <summary>The tensors one op invocation works on.</summary>
public sealed class OpContext
{
    public Tensor[] Inputs = [];
    public Tensor[] Outputs = [];
    public float[] Workspace = [];
    /// <summary>Training mode (batch statistics in BatchNormalization, masks in Dropout).</summary>
    public bool Training;
    public Tensor?[] InputGrads = [];
    /// <summary>
    /// Per input (empty: none): true when the input's gradient buffer holds no gradient yet and its contents are
    /// undefined, so an op whose <see cref="Op.OverwritesInputGrad"/> is true sets it instead of adding into it.
    /// </summary>
    public bool[] InputGradFresh = [];

    /// <summary>Whether input <paramref name="input"/>'s gradient is to be set rather than added to.</summary>
    public bool IsFresh(int input) => input < InputGradFresh.Length && InputGradFresh[input];
    public Tensor[] OutputGrads = [];
    /// <summary>Per-invocation data an op keeps from forward for backward (batch statistics, masks).</summary>
    public object? State;
    /// <summary>
    /// Whether <see cref="Op.Backward"/> may follow this forward pass, so the op keeps what it needs for it (a Relu's mask
    /// bits). An inference plan clears it; a context made by hand has it set.
    /// </summary>
    public bool RecordsForBackward = true;
    /// <summary>
    /// Set by a training plan on a batch norm whose output goes only to a Relu or Clip: the forward pass (and replay)
    /// writes the activation's output directly, plane group by plane group while it is in cache, and the activation's
    /// own forward is skipped. Null: the op writes its own output.
    /// </summary>
    internal ActivationFusion? Fusion;
    /// <summary>A counter that changes every training step (keys seeded randomness such as dropout masks).</summary>
    public long Step;
}
