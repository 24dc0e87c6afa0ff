using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Graph;

/// <summary>Activation gradients reuse buffers by liveness, and the result equals a freshly planned run.</summary>
public class TrainingPlanMemoryTests
{
    /// <summary>Two training steps of <paramref name="plan"/> on the same batch: the second step's output, then each parameter's gradient.</summary>
    static float[][] TwoSteps(TrainingPlan plan, Tensor x, Tensor dy, Parameter[] parameters, Func<Node, bool> training, Action<Node>? afterNode = null)
    {
        var result = Array.Empty<float[]>();
        for (int step = 0; step < 2; step++)
        {
            var y = plan.Forward([x], training, step)[0].Span.ToArray();
            plan.ZeroGrad();
            plan.Backward([dy], afterNode);
            result = [y, .. parameters.Select(p => p.Grad!.Span.ToArray())];
        }
        return result;
    }

    /// <summary>x·s through a chain of 12 activations: gradients live two at a time, not twelve.</summary>
    static (ComputeGraph Graph, Parameter Scale) Chain()
    {
        var g = new ComputeGraph();
        var x = g.AddInput("x", [-1, 1000]);
        var s = g.AddParameter("s", new Tensor([1000], Enumerable.Range(0, 1000).Select(i => 0.5f + i % 7 * 0.1f).ToArray()));
        var v = g.AddNode("scale", new MulOp(), [x, s], ["v0"]).Outputs[0];
        for (int i = 1; i <= 12; i++)
            v = g.AddNode($"n{i}", i % 2 == 0 ? new ReluOp() : new TanhOp(), [v], [$"v{i}"]).Outputs[0];
        g.MarkOutput(v);
        return (g, s.Parameter!);
    }

    /// <summary>
    /// Tanh's backward reads its output, Relu's its mask bits. The forward pass keeps v3, v7, v11 and the output; v1, v5
    /// and v9 are replayed in backward (with the values they come from, v0, v4, v8) just before their readers, as
    /// nothing replayed is needed to replay them. Gradients and replayed values live in buffers the forward pass is done
    /// with: at most seven buffers for the step, where keeping every value backward reads and giving each live gradient
    /// its own buffer took eleven.
    /// </summary>
    [Fact]
    public void AChainHoldsFewBuffersAtOnce()
    {
        var (g, _) = Chain();
        var plan = new TrainingPlan(g, [[4, 1000]]);
        Assert.Equal(["v0", "v1", "v4", "v5", "v8", "v9"], plan.ReplayedValues.Select(id => g.Values[id].Name).Order());
        Assert.True(plan.ForwardFloats + plan.GradientFloats <= 7 * 4 * 1000, $"{plan.ForwardFloats} forward and {plan.GradientFloats} more floats");
    }

    /// <summary>conv → batch norm → Relu → conv → batch norm → add → Relu → max pool → flatten → gemm, batch norm in train mode.</summary>
    internal static (ComputeGraph Graph, Parameter[] Parameters) SmallResidualNet()
    {
        var g = new ComputeGraph();
        var rng = new Random(5);
        Value P(string name, params int[] shape) =>
            g.AddParameter(name, new Tensor(shape, Enumerable.Range(0, (int)Shapes.ElementCount(shape)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()));
        Value Bn(string name, Value x, int c)
        {
            var scale = g.AddParameter(name + ".scale", new Tensor([c], Enumerable.Range(0, c).Select(i => 0.5f + 0.1f * i).ToArray()));
            var bias = P(name + ".bias", c);
            var mean = g.AddParameter(name + ".mean", new Tensor([c]));
            var variance = g.AddParameter(name + ".var", new Tensor([c], Enumerable.Repeat(1f, c).ToArray()));
            mean.Parameter!.Trainable = false; variance.Parameter!.Trainable = false;
            return g.AddNode(name, new BatchNormalizationOp(1e-5f, 0.9f), [x, scale, bias, mean, variance], [name + ".y"]).Outputs[0];
        }
        var window = new WindowSpec([3, 3], [1, 1], [1, 1], [1, 1, 1, 1], AutoPad.NotSet);
        var x = g.AddInput("x", [-1, 3, 8, 8]);
        var c1 = g.AddNode("conv1", new ConvOp(window, 1), [x, P("w1", 4, 3, 3, 3)], ["c1"]).Outputs[0];
        var r1 = g.AddNode("relu1", new ReluOp(), [Bn("bn1", c1, 4)], ["r1"]).Outputs[0];
        var c2 = g.AddNode("conv2", new ConvOp(window, 1), [r1, P("w2", 4, 4, 3, 3)], ["c2"]).Outputs[0];
        var sum = g.AddNode("add", new AddOp(), [Bn("bn2", c2, 4), r1], ["sum"]).Outputs[0];
        var r2 = g.AddNode("relu2", new ReluOp(), [sum], ["r2"]).Outputs[0];
        var pooled = g.AddNode("pool", new PoolOp(true, new WindowSpec([2, 2], [2, 2], [1, 1], [0, 0, 0, 0], AutoPad.NotSet), false, false), [r2], ["pooled"]).Outputs[0];
        var flat = g.AddNode("flatten", new ReshapeOp([DimRule.Copy(0), DimRule.Infer]), [pooled], ["flat"]).Outputs[0];
        var y = g.AddNode("fc", new GemmOp(false, true, 1, 1), [flat, P("fc.w", 5, 64), P("fc.b", 5)], ["y"]).Outputs[0];
        g.MarkOutput(y);
        return (g, g.Parameters.Where(p => p.Trainable).ToArray());
    }

    /// <summary>
    /// Replayed values are the forward pass's to the bit, and so is a Relu run inside its batch norm: every parameter
    /// gradient (and the output) equals the one of a plan that keeps the values and runs each node alone, over repeated steps.
    /// </summary>
    [Fact]
    public void ReplayedValuesAndFusedActivationsGiveTheGradientsOfKeptOnes()
    {
        var (g, parameters) = SmallResidualNet();
        var x = new Tensor([6, 3, 8, 8], Enumerable.Range(0, 6 * 3 * 64).Select(i => MathF.Sin(i * 0.37f)).ToArray());
        var dy = new Tensor([6, 5], Enumerable.Range(0, 30).Select(i => MathF.Cos(i * 0.11f)).ToArray());
        var running = g.Parameters.Where(p => !p.Trainable).Select(p => p.Value.Span.ToArray()).ToArray();
        float[][] Gradients(bool replay, bool fuse)
        {
            foreach (var (p, v) in g.Parameters.Where(p => !p.Trainable).Zip(running)) v.CopyTo(p.Value.Span);
            var plan = new TrainingPlan(g, [x.ShapeArray], null, replay, fuse);
            Assert.Equal(replay, plan.ReplayedValues.Count > 0);
            Assert.Equal(fuse ? 1 : 0, plan.FusedActivations);
            return TwoSteps(plan, x, dy, parameters, _ => true);
        }
        var kept = Gradients(replay: false, fuse: false);
        foreach (var (replay, fuse) in new[] { (true, false), (false, true), (true, true) })
        {
            var other = Gradients(replay, fuse);
            for (int i = 0; i < kept.Length; i++) Assert.Equal(kept[i], other[i]);
        }
    }

    /// <summary>
    /// conv → batch norm → Clip(0, 6) → 1×1 conv → batch norm → Relu → global average pool → flatten → gemm on 7×7
    /// planes, whose mask bits start inside a byte.
    /// </summary>
    static (ComputeGraph Graph, Parameter[] Parameters) OddPlaneNet()
    {
        var g = new ComputeGraph();
        var rng = new Random(9);
        Value P(string name, params int[] shape) =>
            g.AddParameter(name, new Tensor(shape, Enumerable.Range(0, (int)Shapes.ElementCount(shape)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()));
        Value Bn(string name, Value x, int c)
        {
            var scale = g.AddParameter(name + ".scale", new Tensor([c], Enumerable.Range(0, c).Select(i => 0.5f + 0.3f * i).ToArray()));
            var bias = P(name + ".bias", c);
            var mean = g.AddParameter(name + ".mean", new Tensor([c], Enumerable.Range(0, c).Select(i => 0.1f * i).ToArray()));
            var variance = g.AddParameter(name + ".var", new Tensor([c], Enumerable.Repeat(0.8f, c).ToArray()));
            mean.Parameter!.Trainable = false; variance.Parameter!.Trainable = false;
            return g.AddNode(name, new BatchNormalizationOp(1e-5f, 0.9f), [x, scale, bias, mean, variance], [name + ".y"]).Outputs[0];
        }
        var x = g.AddInput("x", [-1, 3, 7, 7]);
        var c1 = g.AddNode("conv1", new ConvOp(new WindowSpec([3, 3], [1, 1], [1, 1], [1, 1, 1, 1], AutoPad.NotSet), 1), [x, P("w1", 5, 3, 3, 3)], ["c1"]).Outputs[0];
        var r1 = g.AddNode("clip1", new ClipOp(0f, 0.6f), [Bn("bn1", c1, 5)], ["r1"]).Outputs[0];
        var c2 = g.AddNode("conv2", new ConvOp(new WindowSpec([1, 1], [1, 1], [1, 1], [0, 0, 0, 0], AutoPad.NotSet), 1), [r1, P("w2", 6, 5, 1, 1)], ["c2"]).Outputs[0];
        var r2 = g.AddNode("relu2", new ReluOp(), [Bn("bn2", c2, 6)], ["r2"]).Outputs[0];
        var pooled = g.AddNode("pool", new GlobalPoolOp(false), [r2], ["pooled"]).Outputs[0];
        var flat = g.AddNode("flatten", new ReshapeOp([DimRule.Copy(0), DimRule.Infer]), [pooled], ["flat"]).Outputs[0];
        var y = g.AddNode("fc", new GemmOp(false, true, 1, 1), [flat, P("fc.w", 4, 6), P("fc.b", 4)], ["y"]).Outputs[0];
        g.MarkOutput(y);
        return (g, g.Parameters.Where(p => p.Trainable).ToArray());
    }

    /// <summary>
    /// A Clip and a Relu run inside their batch norms (one pass for the map, the clamp and the mask bits, over planes
    /// whose bits start inside a byte) give every gradient of the plan that runs each node alone, to the bit: with batch
    /// statistics and with one batch norm on its running statistics, over repeated steps, with and without a callback
    /// after each backward step.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ActivationsInsideBatchNormsOnOddPlanesGiveTheGradientsOfTheNodesAlone(bool batchStatistics)
    {
        var (g, parameters) = OddPlaneNet();
        var x = new Tensor([3, 3, 7, 7], Enumerable.Range(0, 3 * 3 * 49).Select(i => MathF.Sin(i * 0.37f) * 2).ToArray());
        var dy = new Tensor([3, 4], Enumerable.Range(0, 12).Select(i => MathF.Cos(i * 0.11f)).ToArray());
        var running = g.Parameters.Where(p => !p.Trainable).Select(p => p.Value.Span.ToArray()).ToArray();
        float[][] Gradients(bool fuse, bool callback)
        {
            foreach (var (p, v) in g.Parameters.Where(p => !p.Trainable).Zip(running)) v.CopyTo(p.Value.Span);
            var plan = new TrainingPlan(g, [x.ShapeArray], null, replay: true, fuse);
            Assert.Equal(fuse ? 2 : 0, plan.FusedActivations);
            return TwoSteps(plan, x, dy, parameters, node => batchStatistics || node.Name != "bn2", callback ? _ => { } : null);
        }
        var alone = Gradients(fuse: false, callback: false);
        Assert.Contains(alone[1], v => v != 0);
        foreach (var callback in new[] { false, true })
        {
            var fused = Gradients(fuse: true, callback);
            for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], fused[i]);
        }
    }

    /// <summary>
    /// A fire module as SqueezeNet's: conv → Relu, then a 1×1 and a 3×3 conv each → Relu (Clip for one), concatenated,
    /// max-pooled, then a gemm. Every convolution with its activation after it runs as one (the bounds in the kernel,
    /// the mask bits from its output): the gradients and the output equal those of the plan running each node alone,
    /// to the bit, over repeated steps.
    /// </summary>
    [Fact]
    public void ActivationsInsideConvolutionsGiveTheGradientsOfTheNodesAlone()
    {
        var g = new ComputeGraph();
        var rng = new Random(3);
        Value P(string name, params int[] shape) =>
            g.AddParameter(name, new Tensor(shape, Enumerable.Range(0, (int)Shapes.ElementCount(shape)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()));
        WindowSpec Window(int k) => new([k, k], [1, 1], [1, 1], [k / 2, k / 2, k / 2, k / 2], AutoPad.NotSet);
        var x = g.AddInput("x", [-1, 3, 9, 9]);
        var s = g.AddNode("squeeze", new ConvOp(Window(3), 1), [x, P("ws", 4, 3, 3, 3), P("bs", 4)], ["s"]).Outputs[0];
        var sr = g.AddNode("squeeze.relu", new ReluOp(), [s], ["sr"]).Outputs[0];
        var e1 = g.AddNode("expand1", new ConvOp(Window(1), 1), [sr, P("w1", 5, 4, 1, 1), P("b1", 5)], ["e1"]).Outputs[0];
        var e1r = g.AddNode("expand1.relu", new ReluOp(), [e1], ["e1r"]).Outputs[0];
        var e3 = g.AddNode("expand3", new ConvOp(Window(3), 1), [sr, P("w3", 6, 4, 3, 3), P("b3", 6)], ["e3"]).Outputs[0];
        var e3r = g.AddNode("expand3.clip", new ClipOp(0f, 0.4f), [e3], ["e3r"]).Outputs[0];
        var cat = g.AddNode("concat", new ConcatOp(1), [e1r, e3r], ["cat"]).Outputs[0];
        var pooled = g.AddNode("pool", new PoolOp(true, new WindowSpec([3, 3], [2, 2], [1, 1], [0, 0, 0, 0], AutoPad.NotSet), true, false), [cat], ["pooled"]).Outputs[0];
        var flat = g.AddNode("flatten", new ReshapeOp([DimRule.Copy(0), DimRule.Infer]), [pooled], ["flat"]).Outputs[0];
        var y = g.AddNode("fc", new GemmOp(false, true, 1, 1), [flat, P("fc.w", 3, 11 * 16), P("fc.b", 3)], ["y"]).Outputs[0];
        g.MarkOutput(y);
        var parameters = g.Parameters.Where(p => p.Trainable).ToArray();
        var input = new Tensor([2, 3, 9, 9], Enumerable.Range(0, 2 * 3 * 81).Select(i => MathF.Sin(i * 0.29f)).ToArray());
        var dy = new Tensor([2, 3], Enumerable.Range(0, 6).Select(i => MathF.Cos(i * 0.7f)).ToArray());
        float[][] Gradients(bool fuse)
        {
            var plan = new TrainingPlan(g, [input.ShapeArray], null, replay: true, fuse);
            Assert.Equal(fuse ? 3 : 0, plan.FusedActivations);
            return TwoSteps(plan, input, dy, parameters, _ => true);
        }
        var alone = Gradients(fuse: false);
        Assert.All(alone.Skip(1), grad => Assert.Contains(grad, v => v != 0));
        var fused = Gradients(fuse: true);
        for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], fused[i]);
    }

    [Fact]
    public void RepeatedStepsGiveTheSameGradient()
    {
        var (g, s) = Chain();
        var plan = new TrainingPlan(g, [[4, 1000]]);
        var x = new Tensor([4, 1000], Enumerable.Range(0, 4000).Select(i => MathF.Sin(i * 0.37f)).ToArray());
        var dy = new Tensor([4, 1000], Enumerable.Range(0, 4000).Select(i => MathF.Cos(i * 0.11f)).ToArray());
        float[]? first = null;
        for (int step = 0; step < 3; step++)
        {
            plan.Forward([x]);
            plan.ZeroGrad();
            plan.Backward([dy]);
            var grad = s.Grad!.Span.ToArray();
            Assert.Contains(grad, v => v != 0);
            if (first == null) first = grad; else Assert.Equal(first, grad);
        }
    }
}
