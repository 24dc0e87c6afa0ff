using System.Text.RegularExpressions;

namespace TransferKit.Toolkit.Graph;

/// <summary>
/// A glob over parameter and node names: <c>*</c> matches any run of characters (dots and slashes included), <c>?</c>
/// exactly one, everything else itself; the whole name must match, case-sensitively. Freeze plans and name-pattern
/// parameter groups both select with it.
/// </summary>
public sealed class NameGlob
{
    readonly Regex _regex;

    public NameGlob(string pattern)
    {
        if (string.IsNullOrEmpty(pattern)) throw new ArgumentException("A name glob must not be empty.");
        Pattern = pattern;
        _regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Pattern { get; }

    public bool IsMatch(string name) => _regex.IsMatch(name);

    /// <summary>
    /// The parameters of <paramref name="graph"/> the glob selects: those whose own name matches and those read by a node
    /// whose name matches, each once, in graph order.
    /// </summary>
    public IEnumerable<Parameter> Select(ComputeGraph graph)
    {
        var byNode = graph.Nodes.Where(n => IsMatch(n.Name)).SelectMany(n => n.Inputs)
            .Where(v => v.Kind == ValueKind.Parameter).Select(v => v.Parameter!).ToHashSet();
        return graph.Parameters.Where(p => byNode.Contains(p) || IsMatch(p.Name));
    }

    public override string ToString() => Pattern;
}
