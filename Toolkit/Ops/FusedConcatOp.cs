using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Ops;

/// <summary>
/// A plan-time fusion (<see cref="Graph.PlanOptimizer"/>) of a channel Concat with the convolutions producing its inputs,
/// as in SqueezeNet's fire modules and Inception blocks: each convolution part writes its channel range of the output in
/// place (its images a whole output image apart), so the parts' outputs are never stored apart and never copied. Parts
/// that are not convolutions are copied as <see cref="ConcatOp"/> would. Inputs: per part in order, x, W, B for a
/// convolution (a <see cref="FusedConvOp"/> without residuals, its batch norm folded) or the one value to copy.
/// Inference only: the plain Concat and convolutions stay the training path and the reference it is tested against.
/// </summary>
public sealed class FusedConcatOp : Op
{
    /// <param name="parts">Per Concat input in order: the fused convolution that computes it, or null for a value copied.</param>
    /// <param name="fused">Names of the original nodes this one stands for.</param>
    public FusedConcatOp(IReadOnlyList<FusedConvOp?> parts, IReadOnlyList<string> fused)
    {
        if (parts.Count == 0) throw new ArgumentException("A concat needs at least one part.", nameof(parts));
        foreach (var p in parts)
            if (p != null && p.Epilogue.Any(s => s.Kind == EpilogueKind.Residual))
                throw new ArgumentException("A convolution writing into a concat's output cannot add a residual.", nameof(parts));
        Parts = parts;
        FusedNodes = fused;
        _first = new int[parts.Count];
        for (int i = 0, at = 0; i < parts.Count; i++) { _first[i] = at; at += parts[i] == null ? 1 : 3; }
    }

    /// <summary>Per Concat input: the convolution writing it in place, or null where the input is copied.</summary>
    public IReadOnlyList<FusedConvOp?> Parts { get; }

    /// <summary>Names of the original nodes this one stands for.</summary>
    public IReadOnlyList<string> FusedNodes { get; }

    /// <summary>Index of each part's first input.</summary>
    readonly int[] _first;

    /// <summary>The index of part <paramref name="part"/>'s first input (its x, or the value it copies).</summary>
    public int FirstInput(int part) => _first[part];

    public override string Type => "FusedConcat";

    int InputCount => _first[^1] + (Parts[^1] == null ? 1 : 3);

    /// <summary>Each part's output shape.</summary>
    int[][] PartShapes(IReadOnlyList<int[]> inputs)
    {
        if (inputs.Count != InputCount) throw new ShapeException($"FusedConcat expects {InputCount} inputs, got {inputs.Count}.");
        var shapes = new int[Parts.Count][];
        for (int i = 0; i < Parts.Count; i++)
            shapes[i] = Parts[i] is { } conv ? conv.InferShapes([inputs[_first[i]], inputs[_first[i] + 1], inputs[_first[i] + 2]])[0] : inputs[_first[i]];
        return shapes;
    }

    public override int[][] InferShapes(IReadOnlyList<int[]> inputs)
    {
        var parts = PartShapes(inputs);
        if (parts[0].Length < 2) throw new ShapeException("FusedConcat joins along channels (axis 1): its parts need rank 2 or more.");
        return new ConcatOp(1).InferShapes(parts);
    }

    public override long WorkspaceLength(IReadOnlyList<int[]> inputs)
    {
        long most = 0;
        for (int i = 0; i < Parts.Count; i++)
            if (Parts[i] is { } conv) most = Math.Max(most, conv.WorkspaceLength([inputs[_first[i]], inputs[_first[i] + 1], inputs[_first[i] + 2]]));
        return most;
    }

    public override void Forward(OpContext ctx)
    {
        var y = ctx.Outputs[0];
        int batch = y.Dim(0);
        long image = y.Length / Math.Max(1, batch);
        int offset = 0;
        for (int i = 0; i < Parts.Count; i++)
        {
            var x = ctx.Inputs[_first[i]];
            long part;
            if (Parts[i] is { } conv)
            {
                var g = conv.Conv.Geometry(x.ShapeArray, ctx.Inputs[_first[i] + 1].ShapeArray);
                part = (long)g.OutChannels * g.Positions;
                conv.Run(ctx.Inputs, _first[i], ctx.Workspace, y.Data, offset, image);
            }
            else
            {
                part = x.Length / Math.Max(1, batch);
                for (int n = 0; n < batch; n++) Array.Copy(x.Data, n * part, y.Data, offset + n * image, part);
            }
            offset += (int)part;
        }
    }

    public override string Describe() =>
        $"FusedConcat({string.Join(", ", Parts.Select(p => p == null ? "copy" : p.Describe()))})";
}
