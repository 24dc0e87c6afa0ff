using System.IO.Compression;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Tests.Common;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Tests;

/// <summary>Backward through imported real models: directional derivatives and a tiny overfitting run.</summary>
public class TrainingTests
{
    /// <summary>The bound on the directional-derivative check of a whole graph.</summary>
    const double DirectionalRelativeTolerance = 1e-3;

    /// <summary>Step along the random direction; small enough to stay off Relu and max-pool kinks, large for float32 round-off.</summary>
    const double DirectionStep = 1e-3;

    static double Loss(TrainingPlan plan, Tensor[] inputs, int[] labels, Tensor? grad = null) =>
        new CrossEntropyLoss().Compute(plan.Forward(inputs)[0], labels, grad);

    [Fact]
    public void Mnist8GradientMatchesDirectionalDerivative()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        var inputs = Verifier.RandomInputs(m, 3, seed: 5);
        var labels = new[] { 1, 7, 3 };
        var plan = new TrainingPlan(m.Graph, inputs.Select(t => t.ShapeArray).ToArray());
        var logits = plan.Forward(inputs)[0];
        var dlogits = new Tensor(logits.ShapeArray);
        new CrossEntropyLoss().Compute(logits, labels, dlogits);
        plan.ZeroGrad();
        plan.Backward([dlogits]);

        // Random direction, scaled to each parameter's magnitude.
        var rng = new Random(3);
        var parameters = m.Graph.Parameters.ToArray();
        var direction = parameters.Select(p => p.Value.Span.ToArray().Select(v => (float)((rng.NextDouble() * 2 - 1) * (Math.Abs(v) + 1e-2))).ToArray()).ToArray();
        double analytic = 0;
        for (int k = 0; k < parameters.Length; k++)
            for (int i = 0; i < direction[k].Length; i++) analytic += (double)parameters[k].Grad!.Span[i] * direction[k][i];

        var original = parameters.Select(p => p.Value.Span.ToArray()).ToArray();
        double At(double t)
        {
            for (int k = 0; k < parameters.Length; k++)
                for (int i = 0; i < direction[k].Length; i++) parameters[k].Value.Span[i] = (float)(original[k][i] + t * direction[k][i]);
            return Loss(plan, inputs, labels);
        }
        double numeric = (At(DirectionStep) - At(-DirectionStep)) / (2 * DirectionStep);
        At(0);
        Assert.True(Math.Abs(analytic - numeric) <= DirectionalRelativeTolerance * Math.Abs(numeric),
            $"analytic {analytic:G8}, numeric {numeric:G8}");
    }

    static (Tensor Images, int[] Labels) MnistDigits(int perClass, params int[] digits)
    {
        using var imgs = new GZipStream(File.OpenRead(SharedAssets.Dataset("mnist/t10k-images-idx3-ubyte.gz")), CompressionMode.Decompress);
        using var lbls = new GZipStream(File.OpenRead(SharedAssets.Dataset("mnist/t10k-labels-idx1-ubyte.gz")), CompressionMode.Decompress);
        var imageBytes = new MemoryStream(); imgs.CopyTo(imageBytes);
        var labelBytes = new MemoryStream(); lbls.CopyTo(labelBytes);
        var ib = imageBytes.ToArray(); var lb = labelBytes.ToArray();
        var chosen = new List<(int Index, int Class)>();
        for (int i = 0; i < 10000 && chosen.Count < perClass * digits.Length; i++)
        {
            int cls = Array.IndexOf(digits, lb[8 + i]);
            if (cls >= 0 && chosen.Count(c => c.Class == cls) < perClass) chosen.Add((i, cls));
        }
        var t = new Tensor(chosen.Count, 1, 28, 28);
        for (int k = 0; k < chosen.Count; k++)
            for (int p = 0; p < 784; p++) t.Span[k * 784 + p] = ib[16 + chosen[k].Index * 784 + p] / 255f;
        return (t, chosen.Select(c => c.Class).ToArray());
    }

    [Fact]
    public void SixteenImagesOfTwoClassesOverfitWithTheHeadUnfrozen()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("mnist-8.onnx"));
        // New 2-class head in place of the 10-class MatMul + Add, Kaiming-uniform initialized from a seed.
        var matmul = m.Graph.Nodes.Last(n => n.Op.Type == "MatMul");
        var add = m.Graph.Nodes.Last(n => n.Op.Type == "Add");
        var w = matmul.Inputs[1].Parameter!; var b = add.Inputs[1].Parameter!;
        var rng = new Random(42);
        float bound = MathF.Sqrt(6f / 256);
        w.Value = new Tensor(256, 2);
        for (int i = 0; i < w.Value.Length; i++) w.Value.Span[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        b.Value = new Tensor(1, 2);
        foreach (var p in m.Graph.Parameters) p.Trainable = p == w || p == b;

        var (images, labels) = MnistDigits(8, 3, 8);
        var plan = new TrainingPlan(m.Graph, [images.ShapeArray]);
        Assert.Equal(2, plan.BackwardNodes.Count); // only the head's MatMul and Add run backward
        var sgd = new Sgd(m.Graph.Parameters, lr: 0.01f, momentum: 0.9f);
        var loss = new CrossEntropyLoss();
        double last = double.NaN;
        for (int step = 0; step < 300 && !(last < 0.05); step++)
        {
            var logits = plan.Forward([images])[0];
            var grad = new Tensor(logits.ShapeArray);
            last = loss.Compute(logits, labels, grad);
            sgd.ZeroGrad();
            plan.Backward([grad]);
            sgd.Step();
        }
        Assert.True(last < 0.05, $"training loss {last}");
    }

    [Fact]
    public void FrozenPrefixKeepsNoActivations()
    {
        var m = OnnxImporter.Import(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx"));
        foreach (var p in m.Graph.Parameters) p.Trainable = false;
        var head = m.Graph.Nodes.Last(n => n.Op.Type == "Conv");
        foreach (var v in head.Inputs.Where(v => v.Kind == ValueKind.Parameter)) v.Parameter!.Trainable = true;
        var shapes = new[] { new[] { 2, 3, 224, 224 } };
        var frozen = new TrainingPlan(m.Graph, shapes);
        var inference = new ExecutionPlan(m.Graph, shapes);
        // Backward covers only the head and what follows it; the body's buffers are shared as in inference.
        Assert.True(frozen.BackwardNodes.All(n => n.Index >= head.Index));
        Assert.True(frozen.ActivationFloats < inference.ActivationFloats * 1.5, $"{frozen.ActivationFloats} vs {inference.ActivationFloats}");
        foreach (var p in m.Graph.Parameters) p.Trainable = true;
        var full = new TrainingPlan(m.Graph, shapes);
        // Training everything holds, at once, every activation a backward node reads (views share their input's buffer).
        var read = new HashSet<Value>();
        foreach (var n in full.BackwardNodes)
        {
            for (int i = 0; i < n.Inputs.Length; i++)
                if (n.Inputs[i].Kind == ValueKind.Activation && n.Op.BackwardReadsInput(i)) read.Add(n.Inputs[i]);
            for (int o = 0; o < n.Outputs.Length; o++)
                if (n.Op.BackwardReadsOutput(o)) read.Add(n.Outputs[o]);
        }
        long held = read.Where(v => v.Producer?.Op.IsView != true).Sum(v => Shapes.ElementCount(full.Shapes[v.Id]));
        Assert.True(full.ActivationFloats >= held, $"{full.ActivationFloats} floats hold {held} of activations backward reads");
        Assert.True(held > frozen.ActivationFloats, $"{held} read by backward when everything trains vs {frozen.ActivationFloats} held by the frozen-body plan");
    }
}
