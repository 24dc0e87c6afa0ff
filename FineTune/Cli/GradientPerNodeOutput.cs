using System.Text.Json;
using TransferKit.FineTune.Training;
using TransferKit.Toolkit.Graph;

namespace TransferKit.FineTune.Cli;

/// <summary>The table and JSON of <c>verify --grad --per-node</c>: which node's backward is wrong.</summary>
static class GradientPerNodeOutput
{
    /// <summary>Prints the report; the exit code is 0 when every gradient checked is within tolerance, 1 otherwise.</summary>
    public static int Report(string model, GradientCheckSettings s, bool json, NodeGradientCheckReport r)
    {
        string lossName = s.Loss == GradientCheckLoss.MeanSquaredError ? "mse" : "cross-entropy";
        if (json) Console.WriteLine(ToJson(model, s.Batch, lossName, r));
        else Print(model, s.Batch, lossName, r);
        return r.Passed ? 0 : 1;
    }

    static void Print(string model, int batch, string lossName, NodeGradientCheckReport r)
    {
        Console.WriteLine($"{Path.GetFileName(model)}  per-node gradient check  batch {batch}  {lossName} loss {r.Loss:F4}  ε {r.Epsilon:g} (relative)  {r.Directions} direction(s) per node  {r.HeldSwitches} switching nodes held  rule |a − n| / max(|a|, |n|, floor) ≤ {r.Tolerance:g}");
        Console.WriteLine($"  {"node",-28} {"op",-20} {"gradient",-24} {"analytic",14} {"numeric",14} {"rel error",10}");
        foreach (var n in r.Nodes)
        {
            var entries = (n.Output is { } o ? new[] { o } : []).Concat(n.Inputs).ToList();
            if (n.Output == null) Console.WriteLine($"  {n.Node,-28} {n.OpType,-20} {"output (view: unchecked)",-24}");
            foreach (var e in entries)
                Console.WriteLine($"  {n.Node,-28} {n.OpType,-20} {(e == n.Output ? "output dL/dy" : "input " + e.Value),-24} {e.Analytic,14:E6} {e.Numeric,14:E6} {e.RelativeError,10:E2}  {(e.Passed ? "ok" : "OUTSIDE TOLERANCE")}");
        }
        Console.WriteLine($"  {r.Nodes.Count} nodes, {r.Forwards} forward passes, {r.Seconds:F1}s");
        if (r.FirstDivergentBackward is { } d) Console.WriteLine($"  first divergent backward node: {d.Node} ({d.OpType}): its output gradient is right, its input gradient wrong");
        Console.WriteLine(r.Passed ? "PASS: every node's output and input gradients within tolerance"
            : r.FirstDivergentBackward is { } f ? $"FAIL: the backward of {f.Node} ({f.OpType}) is wrong" : "FAIL: gradients outside tolerance, no single node's backward to blame");
    }

    static object Entry(NodeGradientCheckEntry e) => new
    {
        value = e.Value, analytic = e.Analytic, numeric = e.Numeric, relative_error = e.RelativeError, max_relative_error = e.MaxRelativeError, floor = e.Floor, passed = e.Passed,
    };

    static string ToJson(string model, int batch, string lossName, NodeGradientCheckReport r) => JsonSerializer.Serialize(new
    {
        model,
        mode = "grad-per-node",
        batch,
        loss_function = lossName,
        within_tolerance = r.Passed,
        first_divergent_backward_node = r.FirstDivergentBackward?.Node,
        first_divergent_backward_op_type = r.FirstDivergentBackward?.OpType,
        tolerance = r.Tolerance,
        epsilon = r.Epsilon,
        directions = r.Directions,
        loss = r.Loss,
        loss_noise = r.LossNoise,
        held_switches = r.HeldSwitches,
        forwards = r.Forwards,
        seconds = r.Seconds,
        nodes = r.Nodes.Select(n => new
        {
            node = n.Node, op_type = n.OpType, index = n.Index,
            output = n.Output is { } o ? Entry(o) : null,
            inputs = n.Inputs.Select(Entry),
        }),
    }, VerifyCommand.JsonOptions);
}
