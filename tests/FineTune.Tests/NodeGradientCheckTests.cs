using System.Text.Json;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;
using Xunit.Abstractions;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The per-node gradient check (<c>verify --grad --per-node</c>) on real models: a wrong backward injected into one
/// node is named, and nothing is named without it.
/// </summary>
public class NodeGradientCheckTests(ITestOutputHelper output)
{
    /// <summary>The factor the corrupted backward scales its input gradient by: 2 % off, far outside the tolerance.</summary>
    const float CorruptionFactor = 1.02f;

    /// <summary>
    /// Delegates everything to a Conv, but scales the gradient it adds to one input (its data by default) by a factor: a
    /// wrong backward kernel. Its own contribution is computed apart, so gradients other consumers added stay as they are.
    /// </summary>
    sealed class ScaledInputGradOp(Op inner, float factor, int input = 0) : DelegatingOp(inner)
    {
        public override void Backward(OpContext ctx)
        {
            var target = ctx.InputGrads[input];
            var own = target == null ? null : new Tensor(target.ShapeArray);
            var grads = (Tensor?[])ctx.InputGrads.Clone();
            grads[input] = own;
            var fresh = ctx.InputGradFresh;
            ctx.InputGrads = grads; ctx.InputGradFresh = [];
            Inner.Backward(ctx);
            ctx.InputGrads[input] = target; ctx.InputGradFresh = fresh;
            if (target != null)
                for (int i = 0; i < target.Length; i++) target.Data[i] += factor * own!.Data[i];
        }
    }

    /// <summary>A Conv whose backward is wrong only when it sets its data gradient (the plan's fresh buffer), right when it adds into one.</summary>
    sealed class WrongWhenSettingOp(Op inner, float factor) : DelegatingOp(inner)
    {
        public override bool OverwritesInputGrad(int input) => Inner.OverwritesInputGrad(input);
        public override void Backward(OpContext ctx)
        {
            Inner.Backward(ctx);
            if (ctx.IsFresh(0) && ctx.InputGrads[0] is { } g) System.Numerics.Tensors.TensorPrimitives.Multiply(g.Span, factor, g.Span);
        }
    }

    NodeGradientCheckReport Check(string path, GradientCheckSettings s, Func<ImportedModel, Node?>? corrupt = null, GradientCheckOptions? o = null, int input = 0)
    {
        var (m, plan) = GradientCheckJob.Prepare(path, s);
        var node = corrupt?.Invoke(m);
        if (node != null) node.Op = new ScaledInputGradOp(node.Op, CorruptionFactor, input);
        var r = GradientCheckJob.RunPerNode(m, plan, s, o);
        output.WriteLine($"{Path.GetFileName(path)}{(node != null ? $", {node.Name} corrupted" : "")}: {r.Nodes.Count} nodes, {r.Forwards} forwards, {r.Seconds:F1}s, named: {r.FirstDivergentBackward?.Node ?? "none"}");
        foreach (var n in r.Nodes)
            foreach (var e in (n.Output is { } x ? new[] { x } : []).Concat(n.Inputs))
                output.WriteLine($"  {n.Node,-24} {n.OpType,-18} {e.Value,-28} a {e.Analytic,14:E6} n {e.Numeric,14:E6} rel {e.RelativeError:E2}{(e.Passed ? "" : "  OUTSIDE")}");
        return r;
    }

    /// <summary>The corrupted node is named, its output gradient right and its data input's gradient 2 % off; every node upstream of it that feeds it has a wrong output gradient.</summary>
    static void AssertNamed(NodeGradientCheckReport r, Node corrupted)
    {
        Assert.False(r.Passed);
        Assert.NotNull(r.FirstDivergentBackward);
        Assert.Equal(corrupted.Name, r.FirstDivergentBackward!.Node);
        Assert.Equal("Conv", r.FirstDivergentBackward.OpType);
        var row = r.FirstDivergentBackward;
        Assert.True(row.Output!.Passed);
        var data = row.Inputs.Single(e => e.Value == corrupted.Inputs[0].Name);
        Assert.False(data.Passed);
        Assert.InRange(data.Analytic / data.Numeric, CorruptionFactor - 2e-3, CorruptionFactor + 2e-3);
        // Its weight gradient is untouched.
        Assert.All(row.Inputs.Where(e => e != data), e => Assert.True(e.Passed, $"{e.Value}: {e.RelativeError:E2}"));
        // Downstream of it every gradient is right; the producer of its input gets the wrong gradient.
        Assert.All(r.Nodes.Where(n => n.Index > corrupted.Index), n => Assert.True((n.Output?.Passed ?? true) && n.InputsPassed, n.Node));
        var producer = r.Nodes.Single(n => n.Node == corrupted.Inputs[0].Producer!.Name);
        Assert.False(producer.Output!.Passed);
        Assert.True(producer.InputsPassed);
    }

    static void AssertClean(NodeGradientCheckReport r, int expectedNodes)
    {
        Assert.Equal(expectedNodes, r.Nodes.Count);
        Assert.Null(r.FirstDivergentBackward);
        foreach (var n in r.Nodes)
        {
            if (n.Output is { } o) Assert.True(o.Passed, $"{n.Node} output: analytic {o.Analytic:G8}, numeric {o.Numeric:G8}, relative error {o.RelativeError:E2}");
            foreach (var e in n.Inputs) Assert.True(e.Passed, $"{n.Node} input {e.Value}: analytic {e.Analytic:G8}, numeric {e.Numeric:G8}, relative error {e.RelativeError:E2}");
        }
        Assert.True(r.Passed);
    }

    static int BackwardNodes(string path, GradientCheckSettings s)
    {
        var (m, _) = GradientCheckJob.Prepare(path, s);
        var inputs = Importers.Verification.Verifier.RandomInputs(m, s.Batch, s.Seed, s.Size);
        return new TrainingPlan(m.Graph, inputs.Select(t => t.ShapeArray).ToArray()).BackwardNodes.Count;
    }

    static Node SecondConv(ImportedModel m) => m.Graph.Nodes.Where(n => n.Op is ConvOp).ElementAt(1);

    [Fact]
    public void Mnist8CleanAndWithAWrongConvBackward()
    {
        var path = SharedAssets.Model("mnist-8.onnx");
        var s = new GradientCheckSettings { Batch = 3, Seed = 5 };
        AssertClean(Check(path, s), BackwardNodes(path, s));
        Node? corrupted = null;
        var r = Check(path, s, m => corrupted = SecondConv(m));
        AssertNamed(r, corrupted!);
    }

    [Fact]
    public void Mnist8WithTheMeanSquaredErrorLossAndAFrozenSecondConv()
    {
        var path = SharedAssets.Model("mnist-8.onnx");
        var s = new GradientCheckSettings { Batch = 2, Seed = 1, Loss = GradientCheckLoss.MeanSquaredError, Freeze = ["Parameter87", "Parameter88"] };
        var clean = Check(path, s);
        // The frozen second convolution still lies on the backward path (the first one trains), its weight unchecked.
        var frozen = clean.Nodes.Single(n => n.Node == "Convolution110");
        Assert.Equal(["Pooling66_Output_0"], frozen.Inputs.Select(e => e.Value));
        AssertClean(clean, BackwardNodes(path, s));
        Node? corrupted = null;
        AssertNamed(Check(path, s, m => corrupted = SecondConv(m)), corrupted!);
    }

    [Fact]
    public void Mnist8WithAWrongBackwardOnlyWhereTheGradientIsSet()
    {
        // The plan has the second convolution set its data gradient (it is the pool output's only reader); the check
        // runs the op the same way, so a fault in that path alone is named too.
        var path = SharedAssets.Model("mnist-8.onnx");
        var s = new GradientCheckSettings { Batch = 3, Seed = 5 };
        var (m, plan) = GradientCheckJob.Prepare(path, s);
        var conv = SecondConv(m);
        Assert.True(conv.Op.OverwritesInputGrad(0));
        conv.Op = new WrongWhenSettingOp(conv.Op, CorruptionFactor);
        var r = GradientCheckJob.RunPerNode(m, plan, s);
        output.WriteLine($"named: {r.FirstDivergentBackward?.Node ?? "none"}");
        AssertNamed(r, conv);
    }

    [Fact]
    public void Mnist8WithAWrongWeightGradient()
    {
        // The second convolution's weight gradient 2 % off, its data gradient right: the node is named for its weight.
        var path = SharedAssets.Model("mnist-8.onnx");
        var s = new GradientCheckSettings { Batch = 3, Seed = 5 };
        Node? corrupted = null;
        var r = Check(path, s, m => corrupted = SecondConv(m), input: 1);
        Assert.Equal(corrupted!.Name, r.FirstDivergentBackward?.Node);
        var row = r.FirstDivergentBackward!;
        Assert.True(row.Output!.Passed);
        var weight = row.Inputs.Single(e => e.Value == corrupted.Inputs[1].Name);
        Assert.False(weight.Passed);
        Assert.InRange(weight.Analytic / weight.Numeric, CorruptionFactor - 2e-3, CorruptionFactor + 2e-3);
        Assert.True(row.Inputs.Single(e => e.Value == corrupted.Inputs[0].Name).Passed);
        // Nothing else is wrong: no gradient flows from a weight to other nodes.
        Assert.All(r.Nodes.Where(n => n != row), n => Assert.True((n.Output?.Passed ?? true) && n.InputsPassed, n.Node));
    }

    [Theory]
    [InlineData("full", BatchNormPolicy.Train)]
    [InlineData("head", BatchNormPolicy.Train)]
    [InlineData("full", BatchNormPolicy.Eval)]
    [InlineData("head", BatchNormPolicy.Affine)]
    public void MobileNetV3SmallWithBatchNorm(string recipe, BatchNormPolicy bn)
    {
        var path = TestNets.MobileNetV3Small(14, HardSwishForm.Op, size: 64, seed: 3, batchNormEverywhere: true);
        var s = new GradientCheckSettings { Classes = 2, Recipe = recipe, Bn = bn, Batch = 2, Seed = 4 };
        AssertClean(Check(path, s), BackwardNodes(path, s));
        // A convolution in the trained part whose input comes from a node on the backward path.
        Node? corrupted = null;
        var r = Check(path, s, m =>
        {
            var inputs = Importers.Verification.Verifier.RandomInputs(m, s.Batch, s.Seed, s.Size);
            var onPath = new TrainingPlan(m.Graph, inputs.Select(t => t.ShapeArray).ToArray()).BackwardNodes.ToHashSet();
            return corrupted = m.Graph.Nodes.Last(n => n.Op is ConvOp && onPath.Contains(n) && n.Inputs[0].Producer is { } p && onPath.Contains(p));
        });
        AssertNamed(r, corrupted!);
    }

    [Fact]
    public void TinyFpnWithTheMeanSquaredErrorLoss()
    {
        // Nearest and linear Resize, Concat and two ConvTransposes downstream of the corrupted convolution.
        var path = TestNets.TinyFpn(size: 64, seed: 3);
        var s = new GradientCheckSettings { Batch = 2, Seed = 4, Loss = GradientCheckLoss.MeanSquaredError };
        var clean = Check(path, s);
        Assert.Contains(clean.Nodes, n => n.OpType == "ConvTranspose");
        Assert.Contains(clean.Nodes, n => n.OpType == "Resize");
        AssertClean(clean, BackwardNodes(path, s));
        Node? corrupted = null;
        var r = Check(path, s, m =>
        {
            var inputs = Importers.Verification.Verifier.RandomInputs(m, s.Batch, s.Seed, s.Size);
            var onPath = new TrainingPlan(m.Graph, inputs.Select(t => t.ShapeArray).ToArray()).BackwardNodes.ToHashSet();
            return corrupted = m.Graph.Nodes.First(n => n.Op is ConvOp && onPath.Contains(n) && n.Inputs[0].Producer is { } p && onPath.Contains(p));
        });
        AssertNamed(r, corrupted!);
    }

    [Fact]
    public void SqueezeNetNamesTheCorruptedFireConvolution()
    {
        var path = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        var s = new GradientCheckSettings { Batch = 2, Seed = 0 };
        Node? corrupted = null;
        // A 3×3 expand convolution in the middle of the network (fire5).
        var r = Check(path, s, m => corrupted = m.Graph.Nodes.Where(n => n.Op is ConvOp).ElementAt(12));
        AssertNamed(r, corrupted!);
    }

    [Fact]
    public void SqueezeNetCleanNamesNone()
    {
        var path = SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx");
        var s = new GradientCheckSettings { Batch = 2, Seed = 0 };
        var r = Check(path, s);
        // The trailing Softmax, set aside for the logits, is on the path from the parameters but not to the loss.
        Assert.DoesNotContain(r.Nodes, n => n.OpType == "Softmax");
        AssertClean(r, BackwardNodes(path, s) - 1);
    }
}
