using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// Base of the elementwise activations. <see cref="Scalar"/> is the reference semantics; <see cref="Apply"/> the
/// vectorized kernel over a chunk (large tensors are split across threads). Gradient: dx = g·f′(x).
/// </summary>
public abstract class UnaryOp : Op
{
    public override int[][] InferShapes(IReadOnlyList<int[]> inputs) => [(int[])inputs[0].Clone()];

    /// <summary>The scalar definition y = f(x).</summary>
    public abstract float Scalar(float x);

    /// <summary>dy/dx at x (and y = f(x)), the scalar gradient formula.</summary>
    public abstract float Derivative(float x, float y);

    /// <summary>Vectorized y = f(x) over a chunk; defaults to the scalar definition.</summary>
    public virtual void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Scalar(x[i]);
    }

    public override void Forward(OpContext ctx) => Replay(ctx);

    public override bool HasBackward => true;

    /// <summary>An elementwise function: replayed by applying it again (a masked op's bits stay as the forward pass left them).</summary>
    public override bool CanReplay => true;

    /// <summary>y[i] is written from x[i] alone.</summary>
    public override bool ReplaysInPlace => true;

    public override void Replay(OpContext ctx)
    {
        var x = ctx.Inputs[0].Data; var y = ctx.Outputs[0].Data;
        Workers.For(ctx.Inputs[0].Length, 4, (s, e) => Apply(x.AsSpan(s, e - s), y.AsSpan(s, e - s)));
    }

    public override bool OverwritesInputGrad(int input) => true;

    /// <summary>Elementwise: dx[i] is written from g[i] alone.</summary>
    public override bool BackwardInPlace(int input) => true;

    /// <summary>Whether f′ is computed from the output alone (<see cref="Derivative"/> and <see cref="ApplyGradient"/> never read x): then backward does not need the input kept.</summary>
    public virtual bool GradientFromOutput => false;

    public override bool BackwardReadsInput(int input) => !GradientFromOutput;

    /// <summary>Whether f′ needs y (<see cref="Derivative"/> reads its y argument); false for those computed from x alone, whose output need not be kept.</summary>
    public virtual bool GradientReadsOutput => true;

    public override bool BackwardReadsOutput(int output) => GradientReadsOutput;

    public override void Backward(OpContext ctx)
    {
        var gx = ctx.InputGrads[0];
        if (gx == null) return;
        var x = ctx.Inputs[0].Data; var y = ctx.Outputs[0].Data; var g = ctx.OutputGrads[0].Data; var d = gx.Data;
        bool add = !ctx.IsFresh(0);
        Workers.For(gx.Length, 4, (s, e) => ApplyGradient(x.AsSpan(s, e - s), y.AsSpan(s, e - s), g.AsSpan(s, e - s), d.AsSpan(s, e - s), add));
    }

    /// <summary>Vectorized dx += g·f′(x) (or dx = g·f′(x) when <paramref name="add"/> is false) over a chunk; defaults to the scalar gradient formula.</summary>
    public virtual void ApplyGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx, bool add = true)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = (add ? dx[i] : 0) + g[i] * Derivative(x[i], y[i]);
    }
}
