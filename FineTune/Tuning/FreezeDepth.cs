using System.Globalization;
using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.FineTune.Tuning;

/// <summary>
/// Freeze depth: how much of the pretrained body trains beside the new head, written as a fine-tune recipe so that a
/// tuned configuration runs with <c>finetune --config</c> unchanged.
/// <list type="bullet">
/// <item><c>0</c>: the head only (recipe head).</item>
/// <item><c>k</c> ≥ 1: the head plus the last k weighted layers of the body — nodes that multiply by a weight parameter
/// (Conv, Gemm, MatMul), counted backwards in graph order — and every parameterized node after the first of them
/// (biases added separately, batch norm): recipe head with those nodes in <c>unfreeze</c>.</item>
/// <item><c>all</c>: everything trains (recipe full).</item>
/// <item><c>two-phase</c>: the head alone, then everything at discriminative rates (recipe two-phase).</item>
/// </list>
/// Layers are counted in graph order, so in a branching block (SqueezeNet's fire modules) depth 1 may take only one of
/// two parallel branches; such a plan still trains but cannot use the frozen-prefix feature cache.
/// </summary>
public sealed class FreezeDepth
{
    public const string All = "all";
    public const string TwoPhase = "two-phase";

    readonly ComputeGraph _graph;
    readonly HashSet<Node> _head;

    /// <param name="graph">The imported model.</param>
    /// <param name="head">Its classifier head (left out of the count: it always trains).</param>
    public FreezeDepth(ComputeGraph graph, Head head)
    {
        _graph = graph;
        _head = head.Nodes.ToHashSet();
        BodyLayers = graph.Nodes
            .Where(n => !_head.Contains(n) && n.Op is ConvOp or GemmOp or MatMulOp && n.Inputs.Length > 1 && n.Inputs[1].Kind == ValueKind.Parameter)
            .ToArray();
    }

    /// <summary>The body's weighted layers in graph order (what a depth counts from the end).</summary>
    public IReadOnlyList<Node> BodyLayers { get; }

    /// <summary>Whether <paramref name="text"/> is a depth at all (a non-negative integer, all or two-phase), before looking at a model.</summary>
    public static bool IsWellFormed(string text) =>
        text is All or TwoPhase || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 0);

    /// <summary>The node names unfrozen at depth <paramref name="k"/> (head nodes excluded: the head recipe trains them already).</summary>
    public IReadOnlyList<string> TrainableNodes(int k)
    {
        if (k < 0) throw new ArgumentException($"Freeze depth {k} is negative.");
        if (k > BodyLayers.Count)
            throw new ArgumentException($"Freeze depth {k}: the model has only {BodyLayers.Count} weighted layers before its head (use '{All}' to train everything).");
        if (k == 0) return [];
        int cut = BodyLayers[^k].Index;
        return _graph.Nodes.Where(n => n.Index >= cut && !_head.Contains(n) && n.Inputs.Any(v => v.Kind == ValueKind.Parameter))
            .Select(n => n.Name).ToArray();
    }

    /// <summary>Checks a depth against this model; throws with the reason when it does not fit.</summary>
    public void Validate(string depth)
    {
        if (!IsWellFormed(depth)) throw new ArgumentException($"Freeze depth '{depth}' is not a number of layers, '{All}' or '{TwoPhase}'.");
        if (depth is not (All or TwoPhase)) TrainableNodes(int.Parse(depth, CultureInfo.InvariantCulture));
    }

    /// <summary><paramref name="options"/> with the recipe and unfreeze list of a depth (other freeze rules cleared).</summary>
    public FineTuneOptions Apply(string depth, FineTuneOptions options)
    {
        Validate(depth);
        return depth switch
        {
            All => options with { Recipe = "full", Freeze = [], Unfreeze = [] },
            TwoPhase => options with { Recipe = "two-phase", Freeze = [], Unfreeze = [] },
            _ => options with { Recipe = "head", Freeze = [], Unfreeze = TrainableNodes(int.Parse(depth, CultureInfo.InvariantCulture)).ToArray() },
        };
    }
}
