using System.Text;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;

namespace TransferKit.FineTune.Freezing;

/// <summary>
/// Which parameters train, as data: freeze and unfreeze by parameter or node name, by glob, everything up to and
/// including a node (freeze_to), or all but the head; plus the batch-norm policy for the frozen part.
/// Rules apply in order, so "freeze *" then "unfreeze conv10*" leaves only conv10 trainable.
/// </summary>
public sealed class FreezePlan
{
    readonly ComputeGraph _graph;

    public FreezePlan(ComputeGraph graph) => _graph = graph;

    public BatchNormPolicy BatchNorm { get; set; } = BatchNormPolicy.Eval;

    /// <summary>
    /// Marks a node range in <c>--freeze</c> / <c>--unfreeze</c>: <c>..NODE</c> freezes everything up to and including
    /// NODE (Keras' "layers up to", fastai's freeze_to), <c>NODE..</c> unfreezes NODE and everything after it.
    /// </summary>
    public const string UpTo = "..";

    /// <summary>
    /// The plan of one fine-tune phase: the head only (<paramref name="phase"/> "head") or everything ("full"), then the
    /// freeze and unfreeze rules in that order (globs, or node ranges with <see cref="UpTo"/>), then the batch-norm policy.
    /// </summary>
    public static FreezePlan ForPhase(ComputeGraph graph, string phase, IEnumerable<Node> head, BatchNormPolicy batchNorm,
        IEnumerable<string> freeze, IEnumerable<string> unfreeze)
    {
        var plan = new FreezePlan(graph) { BatchNorm = batchNorm };
        if (phase == "head") plan.FreezeAllButHead(head);
        else if (phase == "full") plan.UnfreezeAll();
        else throw new ArgumentException($"Unknown phase '{phase}' (head, full).");
        foreach (var f in freeze) plan.FreezeRule(f);
        foreach (var u in unfreeze) plan.UnfreezeRule(u);
        plan.ApplyBatchNormPolicy();
        return plan;
    }

    /// <summary>The rules applied so far, in order (saved with checkpoints).</summary>
    public List<string> Rules { get; } = [];

    /// <summary>Parameters read by a node.</summary>
    static IEnumerable<Parameter> ParametersOf(Node n) => n.Inputs.Where(v => v.Kind == ValueKind.Parameter && !v.Parameter!.IsConstant).Select(v => v.Parameter!);

    /// <summary>Parameters selected by a <see cref="NameGlob"/> (by parameter name or by the name of a node reading them).</summary>
    IEnumerable<Parameter> Matching(string pattern)
    {
        var found = new NameGlob(pattern).Select(_graph).ToList();
        if (found.Count == 0) throw new ArgumentException($"No parameter or node matches '{pattern}'.");
        return found;
    }

    /// <summary>A <c>--freeze</c> argument: <c>..NODE</c> (<see cref="FreezeTo"/>) or a glob (<see cref="Freeze"/>).</summary>
    public FreezePlan FreezeRule(string rule) =>
        rule.StartsWith(UpTo, StringComparison.Ordinal) ? FreezeTo(rule[UpTo.Length..]) : Freeze(rule);

    /// <summary>An <c>--unfreeze</c> argument: <c>NODE..</c> (<see cref="UnfreezeFrom"/>) or a glob (<see cref="Unfreeze"/>).</summary>
    public FreezePlan UnfreezeRule(string rule) =>
        rule.EndsWith(UpTo, StringComparison.Ordinal) ? UnfreezeFrom(rule[..^UpTo.Length]) : Unfreeze(rule);

    public FreezePlan Freeze(string pattern) { foreach (var p in Matching(pattern)) p.Trainable = false; Rules.Add($"freeze {pattern}"); return this; }

    public FreezePlan Unfreeze(string pattern) { foreach (var p in Matching(pattern)) p.Trainable = true; Rules.Add($"unfreeze {pattern}"); return this; }

    public FreezePlan FreezeAll() { foreach (var p in _graph.Parameters) p.Trainable = false; Rules.Add("freeze *"); return this; }

    public FreezePlan UnfreezeAll() { foreach (var p in _graph.Parameters) p.Trainable = true; Rules.Add("unfreeze *"); return this; }

    /// <summary>Freezes every parameter read by nodes up to and including <paramref name="node"/> (topological order).</summary>
    public FreezePlan FreezeTo(string node)
    {
        var target = NodeNamed(node);
        foreach (var n in _graph.Nodes.Where(n => n.Index <= target.Index))
            foreach (var p in ParametersOf(n)) p.Trainable = false;
        Rules.Add($"freeze_to {node}");
        return this;
    }

    /// <summary>Unfreezes every parameter read by <paramref name="node"/> and the nodes after it (topological order).</summary>
    public FreezePlan UnfreezeFrom(string node)
    {
        var target = NodeNamed(node);
        foreach (var n in _graph.Nodes.Where(n => n.Index >= target.Index))
            foreach (var p in ParametersOf(n)) p.Trainable = true;
        Rules.Add($"unfreeze_from {node}");
        return this;
    }

    /// <summary>A node by its name or by the name of a value it produces.</summary>
    Node NodeNamed(string name) =>
        _graph.Nodes.FirstOrDefault(n => n.Name == name) ?? _graph.Nodes.FirstOrDefault(n => n.Outputs.Any(v => v.Name == name))
        ?? throw new ArgumentException($"No node (or node output) named '{name}'.");

    /// <summary>Freezes everything except the parameters of the given head nodes.</summary>
    public FreezePlan FreezeAllButHead(IEnumerable<Node> head)
    {
        var keep = head.SelectMany(ParametersOf).ToHashSet();
        foreach (var p in _graph.Parameters) p.Trainable = keep.Contains(p);
        Rules.Add("freeze all but head");
        return this;
    }

    /// <summary>Whether a parameter is a batch-norm running statistic (never trained by gradients).</summary>
    public bool IsStatistic(Parameter p) => _graph.Nodes.Any(n => n.Op is BatchNormalizationOp && (n.Inputs[3].Parameter == p || n.Inputs[4].Parameter == p));

    /// <summary>
    /// Applies the batch-norm policy: running statistics never take gradients; in a frozen BN layer (scale and bias
    /// frozen) the policy decides whether scale and bias train (affine, train) and whether batch statistics are used.
    /// </summary>
    public void ApplyBatchNormPolicy()
    {
        foreach (var n in _graph.Nodes.Where(n => n.Op is BatchNormalizationOp))
        {
            n.Inputs[3].Parameter!.Trainable = false;
            n.Inputs[4].Parameter!.Trainable = false;
            bool frozen = !n.Inputs[1].Parameter!.Trainable && !n.Inputs[2].Parameter!.Trainable;
            if (frozen && BatchNorm != BatchNormPolicy.Eval)
            {
                n.Inputs[1].Parameter!.Trainable = true;
                n.Inputs[2].Parameter!.Trainable = true;
                _trainMode.Add(n);
            }
        }
    }

    readonly HashSet<Node> _trainMode = [];

    /// <summary>
    /// Whether a node runs in training mode: dropout always; batch norm when its layer trains (scale or bias trainable and
    /// not frozen by the plan) unless frozen under eval/affine, or when the policy is train.
    /// </summary>
    public bool TrainingMode(Node n) => n.Op switch
    {
        DropoutOp => true,
        BatchNormalizationOp => BatchNorm == BatchNormPolicy.Train || (!_trainMode.Contains(n) && n.Inputs[1].Parameter!.Trainable),
        _ => false,
    };

    /// <summary>The dry-run table: each layer with its parameters, trainable or frozen, and batch-norm mode.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{"layer",-36} {"op",-20} {"parameters",12}  state");
        long trainable = 0, frozen = 0;
        foreach (var n in _graph.Nodes)
        {
            var ps = ParametersOf(n).ToList();
            if (ps.Count == 0) continue;
            long count = ps.Sum(p => (long)p.Value.Length);
            var learn = ps.Where(p => p.Trainable).Sum(p => (long)p.Value.Length);
            trainable += learn; frozen += count - learn;
            string state = learn == 0 ? "frozen" : learn == count ? "trainable" : $"partly trainable ({learn:N0})";
            if (n.Op is BatchNormalizationOp) state += TrainingMode(n) ? ", bn: batch statistics" : ", bn: running statistics";
            sb.AppendLine($"{n.Name,-36} {n.Op.Type,-20} {count,12:N0}  {state}");
        }
        sb.AppendLine($"trainable {trainable:N0}, frozen {frozen:N0}, constants {_graph.ConstantCount:N0}, batch-norm policy {BatchNorm.ToString().ToLowerInvariant()}");
        return sb.ToString();
    }
}
