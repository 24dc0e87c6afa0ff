using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Heads;

/// <summary>
/// Finds a model's classifier head and replaces it with one for a new class count. The head is the last Gemm/MatMul,
/// or the last 1×1 Conv before global pooling (SqueezeNet's conv10), unless named. A trailing Softmax is set aside for
/// training (the loss works on logits) and restored for export.
/// </summary>
public sealed class Head
{
    public required Node Node { get; init; }
    /// <summary>The node adding the bias when it is separate (MatMul + Add), else null.</summary>
    public Node? BiasNode { get; init; }
    public required Parameter Weight { get; init; }
    public Parameter? Bias { get; init; }
    /// <summary>The Softmax (or LogSoftmax) ending the graph, if any.</summary>
    public Node? Softmax { get; init; }

    public int Classes => Node.Op switch
    {
        ConvOp => Weight.Value.Dim(0),
        GemmOp g => g.TransB ? Weight.Value.Dim(0) : Weight.Value.Dim(1),
        _ => Weight.Value.Dim(-1),
    };

    public IEnumerable<Node> Nodes => BiasNode == null ? [Node] : [Node, BiasNode];

    /// <summary>Finds the head, by name when given.</summary>
    public static Head Find(ComputeGraph graph, string? nodeName = null)
    {
        Node? node;
        if (nodeName != null)
            node = graph.Nodes.FirstOrDefault(n => n.Name == nodeName) ?? throw new ArgumentException($"No node named '{nodeName}'.");
        else
        {
            var gp = graph.Nodes.LastOrDefault(n => n.Op is GlobalPoolOp);
            node = graph.Nodes.LastOrDefault(n => n.Op is GemmOp or MatMulOp && n.Inputs[1].Kind == ValueKind.Parameter);
            if (node == null || (gp != null && node.Index < gp.Index))
            {
                var conv = graph.Nodes.LastOrDefault(n => n.Op is ConvOp && n.Inputs[1].Kind == ValueKind.Parameter
                    && n.Inputs[1].Parameter!.Value.Rank >= 3 && n.Inputs[1].Parameter!.Value.Shape[2..].ToArray().All(d => d == 1)
                    && (gp == null || n.Index < gp.Index));
                if (conv != null && (node == null || conv.Index > node.Index)) node = conv;
            }
            if (node == null)
                throw new ArgumentException("No classifier head found: the model has no Gemm/MatMul with a weight and no 1×1 Conv before global pooling. Name it with --head NODE.");
        }
        if (node.Op is not (ConvOp or GemmOp or MatMulOp) || node.Inputs.Length < 2 || node.Inputs[1].Kind != ValueKind.Parameter)
            throw new ArgumentException($"Node '{node.Name}' ({node.Op.Type}) is not a Conv/Gemm/MatMul with a weight parameter.");
        Parameter? bias = node.Inputs.Length > 2 && node.Inputs[2].Kind == ValueKind.Parameter ? node.Inputs[2].Parameter : null;
        Node? biasNode = null;
        if (bias == null && node.Op is MatMulOp)
        {
            biasNode = graph.Nodes.FirstOrDefault(n => n.Op is AddOp && n.Inputs.Contains(node.Outputs[0]) && n.Inputs.Any(v => v.Kind == ValueKind.Parameter));
            bias = biasNode?.Inputs.First(v => v.Kind == ValueKind.Parameter).Parameter;
        }
        var last = graph.Outputs.Count == 1 ? graph.Outputs[0].Producer : null;
        var softmax = last?.Op is SoftmaxOp ? last : null;
        return new Head { Node = node, BiasNode = biasNode, Weight = node.Inputs[1].Parameter!, Bias = bias, Softmax = softmax };
    }

    /// <summary>Replaces the head's weight (and bias) with freshly initialized ones for <paramref name="classes"/> outputs.</summary>
    public void Replace(int classes, HeadInitializer init, int seed)
    {
        if (classes < 1) throw new ArgumentException("A head needs at least one class.");
        var w = Weight.Value;
        int[] shape; int fanIn;
        switch (Node.Op)
        {
            case ConvOp: shape = w.ShapeArray; shape[0] = classes; fanIn = w.Length / w.Dim(0); break;
            case GemmOp g when g.TransB: shape = [classes, w.Dim(1)]; fanIn = w.Dim(1); break;
            default: shape = w.ShapeArray; shape[^1] = classes; fanIn = w.Dim(-2); break;
        }
        double bound = init == HeadInitializer.Kaiming ? Math.Sqrt(6.0 / fanIn) : Math.Sqrt(6.0 / (fanIn + classes));
        var rng = new Random(seed);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++)
            t.Span[i] = init == HeadInitializer.Normal
                ? (float)(0.01 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))
                : (float)((rng.NextDouble() * 2 - 1) * bound);
        Weight.Value = t;
        Weight.Grad = null;
        if (Bias != null)
        {
            var bs = Bias.Value.ShapeArray;
            bs[^1] = classes;
            if (Shapes.ElementCount(bs) != classes) bs = [classes];
            Bias.Value = new Tensor(bs);
            Bias.Grad = null;
        }
    }

    /// <summary>
    /// The Dropout nodes right in front of the head: the one producing its input, looking back through reshapes
    /// (Flatten, Squeeze) and Identity.
    /// </summary>
    public IReadOnlyList<Node> DropoutsBefore()
    {
        var found = new List<Node>();
        var v = Node.Inputs[0];
        while (v.Producer is { } p)
        {
            if (p.Op is DropoutOp) found.Add(p);
            else if (p.Op is not (ReshapeOp or IdentityOp)) break;
            v = p.Inputs[0];
        }
        return found;
    }

    /// <summary>
    /// Sets the training-time dropout ratio in front of the head (fastai's <c>ps</c>, a Keras head's Dropout rate): the
    /// model's own Dropout there gets <paramref name="ratio"/>. Inference is unchanged (Dropout is the identity there).
    /// </summary>
    public void SetDropout(float ratio, string model)
    {
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentException($"A head dropout ratio must be in [0, 1); got {ratio}.");
        var dropouts = DropoutsBefore();
        if (dropouts.Count == 0)
        {
            if (ratio == 0) return;
            throw new ArgumentException($"{model}: the head {Node.Name} has no Dropout in front of it whose ratio --head-dropout could set.");
        }
        foreach (var d in dropouts)
        {
            var old = (DropoutOp)d.Op;
            d.Op = new DropoutOp(ratio) { Seed = old.Seed };
        }
    }

    /// <summary>The graph's outputs for training: the Softmax's input when a Softmax ends the graph.</summary>
    public static void SetAsideSoftmax(ComputeGraph graph, Head head)
    {
        if (head.Softmax != null) graph.SetOutputs([head.Softmax.Inputs[0]]);
    }

    /// <summary>Restores the Softmax output (for export).</summary>
    public static void RestoreSoftmax(ComputeGraph graph, Head head)
    {
        if (head.Softmax != null) graph.SetOutputs([head.Softmax.Outputs[0]]);
    }
}
