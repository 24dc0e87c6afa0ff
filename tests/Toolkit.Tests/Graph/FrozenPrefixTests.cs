using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Graph;

/// <summary>The cut where training starts: a frozen prefix run as inference, then the suffix trained, as the whole graph trains.</summary>
public class FrozenPrefixTests
{
    /// <summary>
    /// Allowed difference, relative to the magnitude plus this much absolute, between the cut and the whole graph: the
    /// prefix runs rewritten and in chunks across threads, so sums go in another order (a few ulps on these sizes).
    /// </summary>
    const float Tolerance = 1e-5f;

    /// <summary>The small residual net with everything but the classifier frozen (batch norm then in inference mode).</summary>
    static ComputeGraph HeadOnly()
    {
        var (g, _) = TrainingPlanMemoryTests.SmallResidualNet();
        foreach (var p in g.Parameters) p.Trainable = p.Name.StartsWith("fc.", StringComparison.Ordinal);
        return g;
    }

    static void Near(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]} against {actual[i]}");
    }

    [Fact]
    public void CutsBeforeTheFirstTrainedNode()
    {
        var g = HeadOnly();
        var cut = FrozenPrefix.TryCreate(g, _ => true)!;
        Assert.Equal(g.Nodes.First(n => n.Name == "fc").Index, cut.Frontier);
        Assert.Equal(["flat"], cut.FrontierValues.Select(v => v.Name));
        Assert.Equal(["flat"], cut.Prefix.Outputs.Select(v => v.Name));
        Assert.Equal(["flat"], cut.Suffix.Inputs.Select(v => v.Name));
        Assert.Equal(["fc"], cut.Suffix.Nodes.Select(n => n.Name));
    }

    /// <summary>
    /// Over three steps of SGD on the classifier, the prefix through <see cref="GraphRunner.Infer"/> and a training plan
    /// of the suffix give the outputs and classifier gradients a training plan of the whole graph gives.
    /// </summary>
    [Fact]
    public void PrefixAsInferenceTrainsAsTheWholeGraph()
    {
        var x = new Tensor([6, 3, 8, 8], Enumerable.Range(0, 6 * 3 * 64).Select(i => MathF.Sin(i * 0.37f)).ToArray());
        var dy = new Tensor([6, 5], Enumerable.Range(0, 30).Select(i => MathF.Cos(i * 0.11f)).ToArray());
        (float[] Y, float[] Grads)[] Run(bool cut)
        {
            var g = HeadOnly();
            var trained = g.Parameters.Where(p => p.Trainable).ToArray();
            var split = cut ? FrozenPrefix.TryCreate(g, _ => true)! : null;
            var prefix = split == null ? null : new GraphRunner(split.Prefix, optimize: true);
            var graph = split?.Suffix ?? g;
            TrainingPlan? plan = null;
            var steps = new List<(float[], float[])>();
            for (int step = 0; step < 3; step++)
            {
                var inputs = prefix != null ? prefix.Infer([x]) : [x];
                plan ??= new TrainingPlan(graph, inputs.Select(t => t.ShapeArray).ToArray(), _ => true);
                var y = plan.Forward(inputs, _ => false, step)[0].Span.ToArray();
                foreach (var p in trained) p.Grad?.Span.Clear();
                plan.Backward([dy]);
                steps.Add((y, trained.SelectMany(p => p.Grad!.Span.ToArray()).ToArray()));
                foreach (var p in trained)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Grad!.Span, -0.1f, p.Value.Span, p.Value.Span);
            }
            return steps.ToArray();
        }
        var whole = Run(cut: false);
        var split = Run(cut: true);
        for (int s = 0; s < whole.Length; s++)
        {
            Near(whole[s].Y, split[s].Y, $"step {s} output");
            Near(whole[s].Grads, split[s].Grads, $"step {s} gradients");
        }
    }

    [Fact]
    public void ADropoutRightBeforeTheHeadTrainsWithIt()
    {
        var g = new ComputeGraph();
        var x = g.AddInput("x", [-1, 4]);
        var frozen = g.AddParameter("s", new Tensor([4], [1, 2, 3, 4]));
        frozen.Parameter!.Trainable = false;
        var v = g.AddNode("scale", new MulOp(), [x, frozen], ["v"]).Outputs[0];
        var d = g.AddNode("drop", new DropoutOp(0.5f), [v], ["d"]).Outputs[0];
        var w = g.AddParameter("w", new Tensor([4], [1, 1, 1, 1]));
        g.MarkOutput(g.AddNode("head", new MulOp(), [d, w], ["y"]).Outputs[0]);
        var cut = FrozenPrefix.TryCreate(g, _ => true)!;
        Assert.Equal(["drop", "head"], cut.Suffix.Nodes.Select(n => n.Name));
        Assert.Equal(["v"], cut.FrontierValues.Select(v => v.Name));
    }

    [Fact]
    public void NoCutWhereThePrefixIsNotInference()
    {
        var g = HeadOnly();
        // A batch norm of the prefix in training mode (its statistics from the batch) cannot run as inference.
        Assert.Null(FrozenPrefix.TryCreate(g, n => n.Name != "bn1"));
        // Everything trainable: nothing before the first trained node.
        foreach (var p in g.Parameters) p.Trainable = !p.Name.EndsWith(".mean", StringComparison.Ordinal) && !p.Name.EndsWith(".var", StringComparison.Ordinal);
        Assert.Null(FrozenPrefix.TryCreate(g, _ => true));
        // Nothing trainable: nothing to train after a cut.
        foreach (var p in g.Parameters) p.Trainable = false;
        Assert.Null(FrozenPrefix.TryCreate(g, _ => true));
    }
}
