using System.Numerics.Tensors;
using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Ops;

/// <summary>What one step of a <see cref="FusedConvOp"/>'s epilogue does to the convolution's output stretch y.</summary>
public enum EpilogueKind
{
    /// <summary>y = f(y) with the step's <see cref="UnaryOp"/> (Relu, Clip, HardSwish, Sigmoid, …).</summary>
    Activation,
    /// <summary>y = y + r, r the fused node's next residual input (same shape as y).</summary>
    Residual,
    /// <summary>y = y·σ(y) (SiLU written as Sigmoid and Mul), σ the step's <see cref="SigmoidOp"/>.</summary>
    Swish,
}

/// <summary>One epilogue step: its kind and, for an activation or swish, the op whose own kernel it runs.</summary>
public sealed record EpilogueStep(EpilogueKind Kind, UnaryOp? Op = null)
{
    public override string ToString() => Kind switch { EpilogueKind.Residual => "Add", EpilogueKind.Swish => "SiLU", _ => Op!.Describe() };
}

/// <summary>
/// A plan-time fusion (<see cref="Graph.PlanOptimizer"/>) of a convolution with what follows it: inputs x, W, B (batch
/// norm already folded into W and B) and one residual per <see cref="EpilogueKind.Residual"/> step. The convolution
/// kernel hands each finished stretch of its output to the epilogue, which runs the fused ops' own kernels on it while
/// it is in cache. Inference only (no backward): the plain graph with its separate ops stays the training path and the
/// reference this is tested against node by node.
/// </summary>
public sealed class FusedConvOp(ConvOp conv, IReadOnlyList<EpilogueStep> epilogue, IReadOnlyList<string> fused) : Op
{
    public ConvOp Conv { get; } = conv;
    public IReadOnlyList<EpilogueStep> Epilogue { get; } = epilogue;

    /// <summary>The epilogue split once: what the kernel applies in registers, and the steps run per stretch after it (<see cref="Finish"/>).</summary>
    readonly (bool Residual, ConvClamp? Clamp, EpilogueStep[] Later) _finish = Finish(epilogue);

    /// <summary>Names of the original nodes this one stands for, in order.</summary>
    public IReadOnlyList<string> FusedNodes { get; } = fused;

    public override string Type => "FusedConv";

    /// <summary>Residual inputs after x, W and B: one per residual step.</summary>
    int Residuals { get; } = epilogue.Count(s => s.Kind == EpilogueKind.Residual);

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var y = Conv.InferShapes([inputs[0], inputs[1], inputs[2]]);
        for (int r = 3; r < inputs.Count; r++)
            if (!inputs[r].AsSpan().SequenceEqual(y[0]))
                throw new Tensors.ShapeException($"FusedConv residual {Tensors.Shapes.Format(inputs[r])} does not match the output {Tensors.Shapes.Format(y[0])}.");
        if (inputs.Count != 3 + Residuals) throw new Tensors.ShapeException($"FusedConv expects {3 + Residuals} inputs, got {inputs.Count}.");
        return y;
    }

    public override long WorkspaceLength(IReadOnlyList<int[]> inputs) => Conv2D.WorkspaceLength(Conv.Geometry(inputs[0], inputs[1]), fixedWeights: true);

    [ThreadStatic] static float[]? _scratch;

    /// <summary>
    /// What the kernels make of the fixed weights (the fused node's are copies), made on first use and kept with the
    /// weight tensor they came from: packed for the GEMM, or transformed for Winograd — a plan for another batch may take
    /// the other kernel. One reference, read once: plans for other batch sizes on other threads share the op
    /// (<see cref="Graph.SplitBatchPlan"/>); a form two threads make at once is made twice, the same.
    /// </summary>
    sealed class Prepared(Tensors.Tensor source, int[] shape)
    {
        public readonly Tensors.Tensor Source = source;
        public readonly int[] Shape = shape;
        public Gemm.PackedA[]? Packs;
        public float[]? Winograd;
        /// <summary><see cref="Winograd"/> packed for the per-point GEMMs.</summary>
        public Gemm.PackedA[]? WinogradPacks;
    }

    Prepared? _prepared;

    public override void Forward(OpContext ctx) => Run(ctx.Inputs, 0, ctx.Workspace, ctx.Outputs[0].Data, 0, 0);

    /// <summary>
    /// The fused forward on inputs x, W, B (then the residuals) at <paramref name="inputs"/>[<paramref name="first"/>…],
    /// writing y from <paramref name="yOffset"/> of <paramref name="y"/> with images <paramref name="yImageStride"/>
    /// floats apart (0: dense) — a channel range of a wider output (<see cref="FusedConcatOp"/>) when larger, for
    /// geometries whose kernel writes strided outputs (<see cref="Conv2D.WritesStrided"/>).
    /// </summary>
    internal void Run(Tensors.Tensor[] inputs, int first, float[] workspace, float[] y, int yOffset, long yImageStride)
    {
        var x = inputs[first]; var w = inputs[first + 1];
        var g = Conv.Geometry(x.ShapeArray, w.ShapeArray);
        long need = Conv2D.WorkspaceLength(g, fixedWeights: true);
        var ws = workspace.Length >= need ? workspace : new float[need];
        var residuals = inputs.Skip(first + 3).Take(Residuals).Select(t => t.Data).ToArray();
        var (leading, clamp, steps) = _finish;
        int r0 = leading ? 1 : 0;
        void Apply(int start, int length)
        {
            var span = y.AsSpan(yOffset + start, length);
            int r = r0;
            foreach (var step in steps)
            {
                switch (step.Kind)
                {
                    case EpilogueKind.Activation: step.Op!.Apply(span, span); break;
                    case EpilogueKind.Residual: TensorPrimitives.Add(span, residuals[r++].AsSpan(start, length), span); break;
                    case EpilogueKind.Swish:
                        var s = _scratch is { } buf && buf.Length >= length ? buf : _scratch = new float[Math.Max(length, 4096)];
                        step.Op!.Apply(span, s.AsSpan(0, length));
                        TensorPrimitives.Multiply(span, s.AsSpan(0, length), span);
                        break;
                }
            }
        }
        var prepared = Volatile.Read(ref _prepared);
        if (prepared == null || prepared.Source != w || !prepared.Shape.AsSpan().SequenceEqual(w.Shape))
            Volatile.Write(ref _prepared, prepared = new Prepared(w, w.ShapeArray));
        var packs = Conv2D.UsesGemm(g, fixedWeights: true) ? prepared.Packs ??= Conv2D.PackWeights(g, w.Span) : null;
        var transformed = Conv2D.UsesWinograd(g, fixedWeights: true) ? prepared.Winograd ??= Winograd3x3.TransformFilters(g, w.Span) : null;
        var transformedPacks = transformed == null ? null : prepared.WinogradPacks ??= Winograd3x3.PackFilters(g, transformed);
        long dense = (long)g.OutChannels * g.Positions, stride = yImageStride == 0 ? dense : yImageStride;
        Conv2D.Forward(g, x.Span, w.Span, inputs[first + 2].Span, y.AsSpan(yOffset, (int)((g.Batch - 1) * stride + dense)), ws, steps.Length == 0 ? null : Apply, packs,
            leading ? residuals[0] : default, clamp, yImageStride, transformed, transformedPacks);
    }

    /// <summary>
    /// The part of an epilogue the convolution kernel applies in registers: a leading residual add, then a Relu or
    /// Clip (as bounds), and the steps left. Any other step, and all after it, stay per stretch.
    /// </summary>
    static (bool Residual, ConvClamp? Clamp, EpilogueStep[] Later) Finish(IReadOnlyList<EpilogueStep> steps)
    {
        int i = 0;
        bool residual = steps.Count > 0 && steps[0].Kind == EpilogueKind.Residual;
        if (residual) i++;
        ConvClamp? clamp = null;
        if (i < steps.Count && steps[i].Kind == EpilogueKind.Activation)
        {
            clamp = steps[i].Op switch { ReluOp => ConvClamp.Relu, ClipOp c => new ConvClamp(c.Min, c.Max), _ => null };
            if (clamp != null) i++;
        }
        return (residual, clamp, steps.Skip(i).ToArray());
    }

    public override string Describe() => $"FusedConv({Conv.Describe()}{string.Concat(Epilogue.Select(s => " + " + s))})";
}
