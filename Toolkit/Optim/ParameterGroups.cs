using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// Parameter groups chosen by name pattern (discriminative learning rates): each rule is a <see cref="NameGlob"/> with
/// its learning rate and weight decay; the first rule that selects a trainable parameter takes it, and parameters no
/// rule selects fall into a default group. Every trainable parameter lands in exactly one group; frozen ones in none.
/// </summary>
public static class ParameterGroups
{
    /// <summary>The name of the group of parameters no rule selects.</summary>
    public const string DefaultName = "default";

    /// <summary>
    /// Groups over a graph's trainable parameters; a rule selects a parameter by its own name or by the name of a node
    /// that reads it (as freeze plans do). Returns one group per rule that took at least one parameter, in rule order,
    /// then the default group when it is not empty. A rule that selects no parameter at all (trainable or not) is an error.
    /// </summary>
    public static List<ParameterGroup> ByPattern(ComputeGraph graph, float defaultLr, float defaultWeightDecay, params (string Glob, float Lr, float WeightDecay)[] rules) =>
        Build(graph.Parameters, defaultLr, defaultWeightDecay, rules, glob => glob.Select(graph).ToHashSet());

    /// <summary>Groups over a list of parameters, matching the rules against parameter names only.</summary>
    public static List<ParameterGroup> ByPattern(IEnumerable<Parameter> parameters, float defaultLr, float defaultWeightDecay, params (string Glob, float Lr, float WeightDecay)[] rules)
    {
        var all = parameters.Distinct().ToList();
        return Build(all, defaultLr, defaultWeightDecay, rules, glob => all.Where(p => glob.IsMatch(p.Name)).ToHashSet());
    }

    static List<ParameterGroup> Build(IEnumerable<Parameter> parameters, float defaultLr, float defaultWeightDecay,
        (string Glob, float Lr, float WeightDecay)[] rules, Func<NameGlob, HashSet<Parameter>> select)
    {
        Check("default", defaultLr, defaultWeightDecay);
        var selected = rules.Select(r =>
        {
            Check($"rule '{r.Glob}'", r.Lr, r.WeightDecay);
            var set = select(new NameGlob(r.Glob));
            if (set.Count == 0) throw new ArgumentException($"Parameter-group rule '{r.Glob}' matches no parameter or node.");
            return set;
        }).ToArray();
        var members = new List<Parameter>[rules.Length + 1];
        for (int i = 0; i < members.Length; i++) members[i] = [];
        foreach (var p in parameters.Distinct().Where(p => p.Trainable))
        {
            int rule = Array.FindIndex(selected, s => s.Contains(p));
            members[rule < 0 ? rules.Length : rule].Add(p);
        }
        var groups = new List<ParameterGroup>();
        for (int i = 0; i < rules.Length; i++)
            if (members[i].Count > 0) groups.Add(new ParameterGroup(members[i], rules[i].Lr, rules[i].WeightDecay) { Name = rules[i].Glob });
        if (members[rules.Length].Count > 0) groups.Add(new ParameterGroup(members[rules.Length], defaultLr, defaultWeightDecay) { Name = DefaultName });
        return groups;
    }

    static void Check(string what, float lr, float weightDecay)
    {
        if (!float.IsFinite(lr) || lr < 0) throw new ArgumentException($"Parameter groups: the {what} learning rate is {lr}; it must be finite and non-negative.");
        if (!float.IsFinite(weightDecay) || weightDecay < 0) throw new ArgumentException($"Parameter groups: the {what} weight decay is {weightDecay}; it must be finite and non-negative.");
    }
}
