using System.Diagnostics;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using Xunit.Abstractions;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Whole-model gradient checks through the training plan, set up as the fine-tune job sets models up: parameter
/// gradients of real imported models against central differences of the cross-entropy loss.
/// </summary>
public class ModelGradientCheckTests(ITestOutputHelper output)
{
    /// <summary>The bound every checked parameter's relative error must meet.</summary>
    const double Tolerance = GradientCheck.Tolerance;

    /// <summary>The factor the corrupted backward scales its gradient by: 2 % off, far outside the tolerance.</summary>
    const float CorruptionFactor = 1.02f;

    GradientCheckReport Check(string model, GradientCheckSettings s, GradientCheckOptions? o = null, Action<ImportedModel, FreezePlan>? inspect = null) =>
        CheckFile(SharedAssets.Model(model), s, o, inspect);

    /// <summary>The check of a model file (a shared model, or one a test built), its table written to the test output.</summary>
    GradientCheckReport CheckFile(string path, GradientCheckSettings s, GradientCheckOptions? o = null, Action<ImportedModel, FreezePlan>? inspect = null)
    {
        var sw = Stopwatch.StartNew();
        var (m, plan) = GradientCheckJob.Prepare(path, s);
        inspect?.Invoke(m, plan);
        var report = GradientCheckJob.Run(m, plan, s, o);
        output.WriteLine($"{Path.GetFileName(path)}: {report.Parameters.Count} of {report.TrainableParameters} trainable tensors checked, max relative error {report.MaxRelativeError:E2}, loss noise {report.LossNoise:E2}, {report.Forwards} forward passes, {sw.Elapsed.TotalSeconds:F1}s");
        foreach (var p in report.Parameters)
            output.WriteLine($"  {p.Name,-24} analytic {p.Analytic,14:E6} numeric {p.Numeric,14:E6} rel {p.RelativeError:E2} (worst {p.MaxRelativeError:E2}) floor {p.Floor:E1}");
        return report;
    }

    static void AssertWithinTolerance(GradientCheckReport r)
    {
        Assert.NotEmpty(r.Parameters);
        foreach (var p in r.Parameters)
            Assert.True(p.RelativeError <= Tolerance, $"{p.Name}: analytic {p.Analytic:G8}, numeric {p.Numeric:G8}, relative error {p.RelativeError:E2} > {Tolerance:E0}");
        Assert.True(r.Passed);
    }

    /// <summary>
    /// The step of the text detector's check. Its backbone stacks two dozen written-out hard-swishes, each a quadratic
    /// x·(x + 3)/6 where its switches are held, so the loss is a polynomial of very high degree in a body weight: at the
    /// default step (1e-2 of the tensor's RMS) the largest relative error, truncation left after Richardson extrapolation, is 1.35
    /// at 64×64 and 0.70 at 128×128; at 1e-3 it is 7.1e-4 at 64 but 5.0e-3 at 128; at 1e-4 every tensor passes at both
    /// (5.2e-4 and 7.2e-5). The tolerance is the engine's.
    /// </summary>
    const double DetectorEpsilon = 1e-4;

    /// <summary>The text detector's input side for its gradient check: small, so 1,500 forward passes take seconds.</summary>
    const int DetectorSize = 64;

    [Fact]
    public void TextDetectorWholeModelWithTheMeanSquaredErrorLoss()
    {
        // PP-OCRv4's detector is no classifier: mean squared error of its whole probability map against a random target,
        // every one of its 123 weight tensors trainable (backbone, FPN neck with Resize, ConvTranspose head).
        var s = new GradientCheckSettings { Batch = 2, Seed = 0, Size = DetectorSize, Loss = GradientCheckLoss.MeanSquaredError };
        var r = Check("ch_PP-OCRv4_det_infer.onnx", s, new GradientCheckOptions { Epsilon = DetectorEpsilon });
        Assert.Equal(123, r.TrainableParameters);
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        Assert.Contains(r.Parameters, p => p.Name.StartsWith("conv2d_transpose_"));
        AssertWithinTolerance(r);
    }

    [Fact]
    public void Mnist8FullyTrainable()
    {
        var r = Check("mnist-8.onnx", new GradientCheckSettings { Batch = 3, Seed = 5 });
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        Assert.Equal(6, r.Parameters.Count);
        AssertWithinTolerance(r);
    }

    [Fact]
    public void SqueezeNetWithANewTwoClassHeadAndTheBodyFrozen()
    {
        var r = Check("squeezenet1.1_imagenet_fp32.onnx", new GradientCheckSettings { Classes = 2, Recipe = "head", Batch = 2, Seed = 1 });
        Assert.Equal(new[] { "conv10_w_0", "conv10_b_0" }.Order(), r.Parameters.Select(p => p.Name).Order());
        AssertWithinTolerance(r);
    }

    [Fact]
    public void SqueezeNetWithTheLastFireModuleUnfrozen()
    {
        var r = Check("squeezenet1.1_imagenet_fp32.onnx",
            new GradientCheckSettings { Classes = 2, Recipe = "head", Unfreeze = ["fire9*"], Batch = 2, Seed = 2 });
        Assert.Contains(r.Parameters, p => p.Name.StartsWith("fire9/squeeze1x1"));
        Assert.Contains(r.Parameters, p => p.Name.StartsWith("fire9/expand3x3"));
        Assert.Equal(8, r.Parameters.Count);
        AssertWithinTolerance(r);
    }

    [Fact]
    public void MobileNetV2TailWithBatchStatistics()
    {
        // The last inverted-residual block's depthwise conv and projection, the final 1×1 conv and a new head; their
        // batch norms train, so they run on batch statistics and their backward is the batch-statistics one.
        string[] tail = ["n_Conv_595", "n_BatchNormalization_601", "n_Conv_608", "n_BatchNormalization_614", "n_Conv_617", "n_BatchNormalization_623"];
        var r = Check("bench/mobilenet_v2.onnx",
            new GradientCheckSettings { Classes = 3, Recipe = "head", Unfreeze = tail, Batch = 2, Seed = 3 },
            inspect: (m, plan) =>
            {
                var bn = m.Graph.Nodes.Where(n => n.Op is BatchNormalizationOp).ToList();
                Assert.All(bn.Where(n => tail.Contains(n.Name)), n => Assert.True(plan.TrainingMode(n), $"{n.Name} should use batch statistics"));
                Assert.All(bn.Where(n => !tail.Contains(n.Name)), n => Assert.False(plan.TrainingMode(n), $"{n.Name} should use running statistics"));
            });
        Assert.Equal(2 + 3 * 3, r.Parameters.Count);
        AssertWithinTolerance(r);
    }

    /// <summary>
    /// A MobileNetV3-Small-like graph as paddle2onnx writes it (weights as Constant nodes, hard-swish written out with
    /// scalar constants, squeeze-excite, Clip in its attribute form at opset 9 and its input form at 13, the HardSwish
    /// op at 14) with a batch norm after every convolution, the squeeze-excite and classifier 1×1 ones included: at
    /// batch 2 those normalise two values per channel. Full recipe (every batch norm on batch statistics) and head
    /// recipe with <c>--bn train</c>; every trainable tensor is checked, and the hard-swish constants are not among them.
    /// </summary>
    [Theory]
    [InlineData(9, HardSwishForm.WrittenOut, "full", BatchNormPolicy.Eval)]
    [InlineData(13, HardSwishForm.WrittenOut, "full", BatchNormPolicy.Eval)]
    [InlineData(14, HardSwishForm.Op, "full", BatchNormPolicy.Eval)]
    [InlineData(9, HardSwishForm.WrittenOut, "head", BatchNormPolicy.Train)]
    [InlineData(14, HardSwishForm.Op, "head", BatchNormPolicy.Train)]
    public void MobileNetV3SmallWithSqueezeExcite(int opset, HardSwishForm form, string recipe, BatchNormPolicy bn)
    {
        var path = TestNets.MobileNetV3Small(opset, form, size: 128, seed: opset, batchNormEverywhere: true);
        var s = new GradientCheckSettings { Classes = 2, Recipe = recipe, Bn = bn, Batch = 2, Seed = 4 };
        var (m, _) = GradientCheckJob.Prepare(path, s);
        Assert.DoesNotContain(m.Graph.Parameters, p => p.Trainable && p.Value.Length == 1);
        if (form == HardSwishForm.WrittenOut) Assert.True(m.Graph.ConstantCount > 0, "the hard-swish and clip operands should import as constants");
        var r = CheckFile(path, s);
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        if (recipe == "head") Assert.Contains(r.Parameters, p => p.Name.StartsWith("bn_scale"));
        AssertWithinTolerance(r);
    }

    /// <summary>
    /// The LayerNorm exporters write out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) with an erf-form
    /// GELU, the weight in front of it trained through the pattern. A reduction whose output gradient sat in a shared
    /// buffer longer than the tensor once divided by the buffer's length: the weight came out 17–23 % off.
    /// </summary>
    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    public void DecomposedLayerNormWithErfGelu(int opset)
    {
        var r = CheckFile(TestNets.DecomposedLayerNorm(opset), new GradientCheckSettings { Batch = 2, Seed = 6 });
        Assert.Equal(r.TrainableParameters, r.Parameters.Count);
        Assert.Contains(r.Parameters, p => p.Name.StartsWith("w_"));
        AssertWithinTolerance(r);
    }

    /// <summary>Delegates everything to another op, but its backward scales the incoming gradient: a wrong backward kernel.</summary>
    sealed class ScaledBackwardOp(Op inner, float factor) : DelegatingOp(inner)
    {
        public override void Backward(OpContext ctx)
        {
            // The output gradient belongs to this node alone and dies after this step, so scaling it in place is safe.
            foreach (var g in ctx.OutputGrads) System.Numerics.Tensors.TensorPrimitives.Multiply(g.Span, factor, g.Span);
            Inner.Backward(ctx);
        }
    }

    [Fact]
    public void AWrongBackwardIsReported()
    {
        var s = new GradientCheckSettings { Batch = 3, Seed = 5 };
        var (m, plan) = GradientCheckJob.Prepare(SharedAssets.Model("mnist-8.onnx"), s);
        // The second convolution's backward is 2 % too large: every parameter before it gets a wrong gradient.
        var conv = m.Graph.Nodes.Where(n => n.Op is ConvOp).ElementAt(1);
        conv.Op = new ScaledBackwardOp(conv.Op, CorruptionFactor);
        var r = GradientCheckJob.Run(m, plan, s);
        foreach (var p in r.Parameters)
            output.WriteLine($"  {p.Name,-24} analytic {p.Analytic,14:E6} numeric {p.Numeric,14:E6} rel {p.RelativeError:E2}");
        Assert.False(r.Passed);
        var upstream = conv.Inputs.Where(v => v.Kind == ValueKind.Parameter).Select(v => v.Parameter!.Name)
            .Concat(m.Graph.Nodes.Where(n => n.Index < conv.Index).SelectMany(n => n.Inputs).Where(v => v.Kind == ValueKind.Parameter && v.Parameter!.Trainable).Select(v => v.Parameter!.Name))
            .ToHashSet();
        foreach (var p in r.Parameters)
        {
            if (upstream.Contains(p.Name))
            {
                Assert.False(p.Passed, $"{p.Name} lies behind the corrupted backward but passed (relative error {p.RelativeError:E2})");
                Assert.InRange(p.Analytic / p.Numeric, CorruptionFactor - 5e-3, CorruptionFactor + 5e-3);
            }
            else Assert.True(p.Passed, $"{p.Name} lies after the corrupted backward but failed (relative error {p.RelativeError:E2})");
        }
    }
}
