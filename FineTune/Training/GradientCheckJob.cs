using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>What a whole-model gradient check trains: the fine-tune options that shape the graph and the freeze plan.</summary>
public sealed class GradientCheckSettings
{
    /// <summary>Replace the head with one for this many classes (0: keep the model's head).</summary>
    public int Classes { get; init; }
    /// <summary>The classifier node (found automatically by default).</summary>
    public string? Head { get; init; }
    public HeadInitializer HeadInit { get; init; } = HeadInitializer.Normal;
    /// <summary>"full" (every parameter trains) or "head" (the body frozen), before the globs.</summary>
    public string Recipe { get; init; } = "full";
    public string[] Freeze { get; init; } = [];
    public string[] Unfreeze { get; init; } = [];
    public BatchNormPolicy Bn { get; init; } = BatchNormPolicy.Eval;
    public int Batch { get; init; } = 2;
    public int Seed { get; init; }
    /// <summary>The size of dynamic input axes after the batch (null: <see cref="OnnxImporter.DynamicSizeAtImport"/>).</summary>
    public int? Size { get; init; }
    /// <summary>
    /// The loss: <see cref="GradientCheckLoss.CrossEntropy"/> on the logits against cycling labels, or
    /// <see cref="GradientCheckLoss.MeanSquaredError"/> against a seeded standard-normal target of the output's shape
    /// (the model's output as it is: no head found or replaced, no Softmax set aside).
    /// </summary>
    public GradientCheckLoss Loss { get; init; } = GradientCheckLoss.CrossEntropy;
}

/// <summary>The loss a whole-model gradient check differentiates.</summary>
public enum GradientCheckLoss
{
    /// <summary>Cross-entropy on the logits (classifiers).</summary>
    CrossEntropy,
    /// <summary>Mean squared error of the whole output against a seeded random target (dense predictions, any model).</summary>
    MeanSquaredError,
}

/// <summary>
/// A gradient check of an imported model set up as a fine-tune phase trains it: optionally a new head, the trailing
/// Softmax set aside (the loss works on logits), the freeze plan of the recipe and globs, training modes from the plan
/// (dropout, batch statistics where batch norm trains). Inputs are seeded Gaussian batches; labels cycle over the classes.
/// </summary>
public static class GradientCheckJob
{
    /// <summary>Imports <paramref name="modelPath"/> and prepares it as <paramref name="s"/> says.</summary>
    public static (ImportedModel Model, FreezePlan Plan) Prepare(string modelPath, GradientCheckSettings s)
    {
        var model = OnnxImporter.Import(modelPath);
        return (model, Prepare(model, s));
    }

    /// <summary>Puts the head, the logits output and the freeze plan in place on an imported model.</summary>
    public static FreezePlan Prepare(ImportedModel model, GradientCheckSettings s)
    {
        var graph = model.Graph;
        Head? head = null;
        if (s.Loss == GradientCheckLoss.MeanSquaredError)
        {
            if (s.Classes > 0 || s.Head != null || s.Recipe == "head")
                throw new ArgumentException("The mean-squared-error check takes the model's output as it is: no new head, no head node, no head recipe.");
            return FreezePlan.ForPhase(graph, s.Recipe, [], s.Bn, s.Freeze, s.Unfreeze);
        }
        if (s.Classes > 0 || s.Head != null || s.Recipe == "head")
        {
            head = Head.Find(graph, s.Head);
            if (s.Classes > 0) head.Replace(s.Classes, s.HeadInit, s.Seed);
            Head.SetAsideSoftmax(graph, head);
        }
        else if (graph.Outputs.Count == 1 && graph.Outputs[0].Producer is { Op: Toolkit.Ops.SoftmaxOp } softmax)
            graph.SetOutputs([softmax.Inputs[0]]);
        return FreezePlan.ForPhase(graph, s.Recipe, head?.Nodes ?? [], s.Bn, s.Freeze, s.Unfreeze);
    }

    /// <summary>Runs the check on a prepared model with a seeded batch of <see cref="GradientCheckSettings.Batch"/> inputs.</summary>
    public static GradientCheckReport Run(ImportedModel model, FreezePlan plan, GradientCheckSettings s, GradientCheckOptions? options = null)
    {
        var (inputs, labels, o) = Setup(model, plan, s, options);
        return GradientCheck.Run(model.Graph, inputs, labels, o);
    }

    /// <summary>
    /// The per-node check (<see cref="NodeGradientCheck"/>: which node's backward is wrong) on a prepared model, with the
    /// inputs, labels or targets and training modes of <see cref="Run"/>.
    /// </summary>
    public static NodeGradientCheckReport RunPerNode(ImportedModel model, FreezePlan plan, GradientCheckSettings s, GradientCheckOptions? options = null)
    {
        var (inputs, labels, o) = Setup(model, plan, s, options);
        return NodeGradientCheck.Run(model.Graph, inputs, labels, o);
    }

    static (Tensor[] Inputs, int[] Labels, GradientCheckOptions Options) Setup(ImportedModel model, FreezePlan plan, GradientCheckSettings s, GradientCheckOptions? options)
    {
        if (s.Batch < 1) throw new ArgumentException("The gradient-check batch must be at least 1.");
        var inputs = Verifier.RandomInputs(model, s.Batch, s.Seed, s.Size);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var o = options ?? new GradientCheckOptions();
        int[] labels;
        float[]? targets = null;
        if (s.Loss == GradientCheckLoss.MeanSquaredError)
        {
            labels = new int[s.Batch];
            targets = RandomTarget(model.Graph.Plan(shapes).Shapes[model.Graph.Outputs[0].Id], s.Seed);
        }
        else
        {
            int classes = ClassCount(model.Graph, shapes, s.Batch);
            labels = Enumerable.Range(0, s.Batch).Select(i => (i * 7 + s.Seed) % classes).ToArray();
        }
        return (inputs, labels, new GradientCheckOptions
        {
            Loss = o.Loss, MseTargets = targets ?? o.MseTargets, Training = o.Training ?? plan.TrainingMode, Step = o.Step, Directions = o.Directions, Epsilon = o.Epsilon,
            Tolerance = o.Tolerance, Seed = o.Seed, Include = o.Include, MaxParameters = o.MaxParameters,
        });
    }

    /// <summary>Seeded standard-normal values, one per element of <paramref name="shape"/> (its own stream, apart from the inputs').</summary>
    static float[] RandomTarget(int[] shape, int seed)
    {
        var rng = new Random(unchecked(seed * 7919 + 104729));
        var t = new float[Shapes.ElementCount(shape)];
        for (int i = 0; i < t.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            t[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return t;
    }

    /// <summary>Classes of the logits: the output's elements per sample.</summary>
    static int ClassCount(ComputeGraph graph, int[][] inputShapes, int batch)
    {
        var shape = graph.Plan(inputShapes).Shapes[graph.Outputs[0].Id];
        return (int)(Shapes.ElementCount(shape) / batch);
    }
}
