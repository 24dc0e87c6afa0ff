using TransferKit.Toolkit.Ops;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// An op that passes shapes, workspace, forward and backward to another: the base of the tests' deliberately wrong
/// backward kernels, which override <see cref="Backward"/> (and what else they change). Read flags, fresh-gradient and
/// in-place claims stay the base class's conservative defaults unless a wrapper forwards them.
/// </summary>
abstract class DelegatingOp(Op inner) : Op
{
    /// <summary>The op delegated to.</summary>
    protected Op Inner { get; } = inner;
    public override string Type => Inner.Type;
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => Inner.InferShapes(inputs);
    public override long WorkspaceLength(IReadOnlyList<int[]> inputs) => Inner.WorkspaceLength(inputs);
    public override long BackwardWorkspaceLength(IReadOnlyList<int[]> inputs) => Inner.BackwardWorkspaceLength(inputs);
    public override bool IsView => Inner.IsView;
    public override void Forward(OpContext ctx) => Inner.Forward(ctx);
    public override bool HasBackward => Inner.HasBackward;
    public override void Backward(OpContext ctx) => Inner.Backward(ctx);
}
