using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.Importers.Tests;

/// <summary>
/// The optimized plan (<see cref="PlanOptimizer"/>: batch norm folded, activations, SiLU and residual adds in the
/// convolution epilogue) against the plain plan value by value: every value that survives fusion — the fused nodes'
/// outputs and everything the untouched nodes compute — agrees within a named tolerance, on the benchmark models and on
/// random-weight MobileNetV3- and EfficientNet-like nets (hard-swish as the op and written out, SiLU written out) and a
/// net of fire-module and Inception-like Concats (convolutions written into the Concat's output in place). Each
/// node is checked on the plain plan's inputs (its own rounding only), and every value of the whole optimized run
/// against the plain run with verify's tolerance.
/// </summary>
public class OptimizedPlanTests
{
    /// <summary>
    /// Absolute part of the rule |optimized − plain| ≤ atol·max(1, M) + rtol·|plain|, M the value's largest magnitude:
    /// a sum's rounding follows the size of its terms, which the tensor's range tracks, not the (possibly cancelled)
    /// element itself. atol and rtol are the export check's.
    /// </summary>
    const double Atol = 1e-5;

    /// <summary>Relative part: folding γ/σ into W rounds once per weight instead of once per output.</summary>
    const double Rtol = 1e-4;

    /// <summary>
    /// A fused convolution's error relative to the magnitude of its sum, Σ|x|·|W′| + |B′| (+ |residual|), as the
    /// convolution kernel tests bound it: the sum runs in another order (Winograd transforms the folded weights), so a
    /// cancelled output carries the rounding of its large terms.
    /// </summary>
    const double RelativeToMagnitude = 2e-5;

    public static IEnumerable<object[]> Models() =>
    [
        ["bench/resnet18.onnx"], ["bench/mobilenet_v2.onnx"], ["bench/squeezenet1_1.onnx"],
        ["mobilenetv3-op"], ["mobilenetv3-written"], ["efficientnet"], ["fire-inception"],
    ];

    static string PathOf(string name) => name switch
    {
        "mobilenetv3-op" => TestNets.MobileNetV3Small(opset: 14, form: HardSwishForm.Op, seed: 2, batchNormEverywhere: true),
        "mobilenetv3-written" => TestNets.MobileNetV3Small(opset: 13, seed: 4),
        "efficientnet" => TestNets.EfficientNetB0(seed: 5),
        "fire-inception" => TestNets.FireAndInception(seed: 3),
        _ => SharedAssets.Model(name),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void EverySurvivingValueMatchesThePlainPlan(string name)
    {
        var model = OnnxImporter.Import(PathOf(name));
        var inputs = Verifier.RandomInputs(model, 2, 7);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var plain = new ExecutionPlan(model.Graph, shapes, keepAll: true);
        plain.Run(inputs);
        var optimizedGraph = PlanOptimizer.Optimize(model.Graph, shapes);
        var optimized = new ExecutionPlan(optimizedGraph, shapes, keepAll: true);
        optimized.Run(inputs);

        var fused = optimizedGraph.Nodes.Where(n => n.Op is FusedConvOp).ToList();
        Assert.NotEmpty(fused);
        // Every channel Concat of conv outputs (the fire modules) is written in place by its convolutions.
        if (model.Graph.Nodes.Any(n => n.Op is ConcatOp))
        {
            Assert.DoesNotContain(optimizedGraph.Nodes, n => n.Op is ConcatOp);
            Assert.Contains(optimizedGraph.Nodes, n => n.Op is FusedConcatOp c && c.Parts.All(p => p != null));
        }
        // Dropout, the identity at inference, is dropped (the fire-and-Inception net has one before its pooling).
        Assert.DoesNotContain(optimizedGraph.Nodes, n => n.Op is DropoutOp);
        if (name == "fire-inception") Assert.Contains(model.Graph.Nodes, n => n.Op is DropoutOp);
        // The Inception-like Concat: its 1×1 and 5×5 convolutions in place; the pool, the depthwise convolution (dense
        // only) and the squeeze output (read by three nodes) copied.
        if (name == "fire-inception")
            Assert.Contains(optimizedGraph.Nodes, n => n.Op is FusedConcatOp c && c.Parts.Count == 5 && c.Parts.Count(p => p != null) == 2);
        Assert.True(optimizedGraph.Nodes.Count < model.Graph.Nodes.Count);
        if (model.Graph.Nodes.Any(n => n.Op is BatchNormalizationOp))
            Assert.DoesNotContain(optimizedGraph.Nodes, n => n.Op is BatchNormalizationOp && n.Inputs[0].Producer?.Op is ConvOp);
        int compared = 0;
        foreach (var node in optimizedGraph.Nodes)
        {
            // Node by node: the optimized node fed the plain plan's values of its inputs must give the plain plan's
            // value of its output (tight: only this node's rounding differs) ...
            var ctx = new OpContext
            {
                Inputs = node.Inputs.Select(v => v.Kind == ValueKind.Parameter ? v.Parameter!.Value : plain.TensorOf(model.Graph.Find(v.Name)!)!).ToArray(),
                Outputs = node.Outputs.Select(v => new Toolkit.Tensors.Tensor(optimized.Shapes[v.Id])).ToArray(),
            };
            ctx.Workspace = new float[node.Op.WorkspaceLength(ctx.Inputs.Select(t => t.ShapeArray).ToArray())];
            if (!node.Op.IsView) node.Op.Forward(ctx);
            var magnitude = node.Op switch
            {
                FusedConvOp f => Magnitude(f, ctx.Inputs),
                FusedConcatOp c => Magnitude(c, ctx.Inputs),
                _ => null,
            };
            for (int o = 0; o < node.Outputs.Length; o++)
            {
                var v = node.Outputs[o];
                var original = model.Graph.Find(v.Name);
                Assert.NotNull(original);
                var e = plain.TensorOf(original!)!.Span;
                var local = node.Op.IsView ? e : ctx.Outputs[o].Span;
                var a = optimized.TensorOf(v)!.Span;
                Assert.Equal(e.Length, a.Length);
                double atol = Atol * Math.Max(1, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(e));
                for (int i = 0; i < e.Length; i++)
                    Assert.True(Math.Abs(local[i] - e[i]) <= atol + Rtol * Math.Abs(e[i]) + RelativeToMagnitude * (magnitude?[i] ?? 0),
                        $"{name}: value '{v.Name}' (node {node.Name}, {node.Op.Describe()}) at {i}: plain {e[i]}, optimized node {local[i]}");
                // ... and the whole optimized run, its rounding carried through every layer, stays within verify's tolerance.
                var whole = Tolerance.Import.Compare(a, e);
                Assert.True(whole.Within, $"{name}: value '{v.Name}' after the whole optimized run: max abs {whole.MaxAbs}, max rel {whole.MaxRel}");
                compared++;
            }
        }
        Assert.Equal(optimizedGraph.Nodes.Sum(n => n.Outputs.Length), compared);
        // The outputs are the plain graph's outputs, by name.
        Assert.Equal(model.Graph.Outputs.Select(o => o.Name), optimizedGraph.Outputs.Select(o => o.Name));
    }

    /// <summary>Σ|x|·|W′| + |B′| + Σ|residual| per output element of a fused convolution.</summary>
    static float[] Magnitude(FusedConvOp op, Toolkit.Tensors.Tensor[] inputs)
    {
        var g = op.Conv.Geometry(inputs[0].ShapeArray, inputs[1].ShapeArray);
        float[] Abs(Toolkit.Tensors.Tensor t) => t.Span.ToArray().Select(MathF.Abs).ToArray();
        var m = new float[(long)g.Batch * g.OutChannels * g.Positions];
        Toolkit.Kernels.Reference.ReferenceConv2D.Forward(g, Abs(inputs[0]), Abs(inputs[1]), Abs(inputs[2]), m);
        foreach (var r in inputs.Skip(3)) System.Numerics.Tensors.TensorPrimitives.Add(m, Abs(r), m);
        return m;
    }

    /// <summary>A fused concat's magnitudes: each convolution part's (as above) in its channel range, 0 where a part is copied.</summary>
    static float[] Magnitude(FusedConcatOp op, Toolkit.Tensors.Tensor[] inputs)
    {
        var parts = new List<(float[] Values, int PerImage)>();
        int at = 0, batch = inputs[0].Dim(0);
        foreach (var part in op.Parts)
        {
            var values = part == null ? new float[inputs[at].Length] : Magnitude(part, inputs[at..(at + 3)]);
            parts.Add((values, values.Length / batch));
            at += part == null ? 1 : 3;
        }
        var m = new List<float>();
        for (int n = 0; n < batch; n++)
            foreach (var (values, per) in parts) m.AddRange(values.AsSpan(n * per, per).ToArray());
        return m.ToArray();
    }

    /// <summary>
    /// A training plan whose frozen first half (batch norm on running statistics) runs rewritten gives the same outputs
    /// and the same weight gradients as the plain training plan.
    /// </summary>
    [Fact]
    public void ATrainingPlansFrozenPartRunsRewrittenWithTheSameOutputsAndGradients()
    {
        var model = OnnxImporter.Import(TestNets.MobileNetV3Small(opset: 14, form: HardSwishForm.Op, seed: 6, batchNormEverywhere: true));
        var graph = model.Graph;
        int half = graph.Nodes.Count / 2;
        foreach (var n in graph.Nodes.Where(n => n.Index < half))
            foreach (var v in n.Inputs.Where(v => v.Kind == ValueKind.Parameter)) v.Parameter!.Trainable = false;
        var inputs = Verifier.RandomInputs(model, 2, 8);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        (float[] Output, Dictionary<string, float[]> Grads) Step(TrainingPlan plan)
        {
            foreach (var p in graph.Parameters) p.Grad = null;
            var y = plan.Forward(inputs)[0].Span.ToArray();
            var g = new Toolkit.Tensors.Tensor(plan.Shapes[graph.Outputs[0].Id]);
            g.Span.Fill(0.1f);
            plan.Backward([g]);
            return (y, graph.Parameters.Where(p => p.Trainable).ToDictionary(p => p.Name, p => p.Grad!.Span.ToArray()));
        }
        var plain = Step(new TrainingPlan(graph, shapes));
        var rewritten = new TrainingPlan(graph, shapes, _ => true);
        var fused = Step(rewritten);
        Assert.True(Tolerance.Import.Compare(fused.Output, plain.Output).Within);
        Assert.NotEmpty(plain.Grads);
        foreach (var (name, g) in plain.Grads)
        {
            var c = Tolerance.Import.Compare(fused.Grads[name], g);
            Assert.True(c.Within, $"gradient of {name}: max abs {c.MaxAbs}, max rel {c.MaxRel}");
        }
        Assert.True(rewritten.ForwardFloats > 0);
    }

    /// <summary>A node that trains (its batch norm in training mode, its weights updated) is left to the plain ops.</summary>
    [Fact]
    public void NodesOutsideTheInferencePartAreNotFused()
    {
        var model = OnnxImporter.Import(SharedAssets.Model("bench/mobilenet_v2.onnx"));
        var shapes = Verifier.RandomInputs(model, 1, 1).Select(t => t.ShapeArray).ToArray();
        int half = model.Graph.Nodes.Count / 2;
        var g = PlanOptimizer.Optimize(model.Graph, shapes, n => n.Index < half);
        var names = g.Nodes.Where(n => n.Op is FusedConvOp).SelectMany(n => ((FusedConvOp)n.Op).FusedNodes).ToHashSet();
        Assert.NotEmpty(names);
        Assert.All(model.Graph.Nodes.Where(n => names.Contains(n.Name)), n => Assert.True(n.Index < half, n.Name));
        Assert.Contains(g.Nodes, n => n.Op is BatchNormalizationOp);
    }
}
