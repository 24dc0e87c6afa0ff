using TransferKit.Toolkit.Ops;
using System.CommandLine;
using System.Text.Json;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit inspect</c>: what a model is made of and what TransferKit supports of it.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = ModelOption.CreateArgument();
        var modelOption = ModelOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("inspect", "Show a model's inputs, outputs, IR and opset, op histogram, parameters per layer and which ops TransferKit runs forward and backward.")
        {
            model, modelOption, json,
        };
        var limits = new ImportLimitOptions();
        limits.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var m = OnnxImporter.Import(ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption)), limits.Get(parse));
            var layers = m.Graph.Nodes
                .Select(n => new { node = n.Name, op = n.Op.Type, parameters = n.Inputs.Where(v => v.Kind == ValueKind.Parameter && !v.Parameter!.IsConstant).Select(v => new { name = v.Name, shape = v.Parameter!.Value.ShapeArray, count = v.Parameter.Value.Length }).ToArray() })
                .Where(l => l.parameters.Length > 0).ToArray();
            // Batch-norm running statistics are weights that no gradient trains; constants are operands, not weights.
            var statistics = m.Graph.Nodes.Where(n => n.Op is BatchNormalizationOp).SelectMany(n => new[] { n.Inputs[3], n.Inputs[4] })
                .Select(v => v.Parameter!).Distinct().ToList();
            long statisticsCount = statistics.Sum(p => (long)p.Value.Length);
            var constants = m.Graph.Parameters.Where(p => p.IsConstant).ToList();
            // Whether every runtime node an ONNX node became (its name, or its name + "/…" for composites) has a backward:
            // hashed and binary-searched, so that it stays linear-ish in the node count (a scan per node was quadratic).
            var backwardByName = m.Graph.Nodes.ToDictionary(g => g.Name, g => g.Op.HasBackward, StringComparer.Ordinal);
            var sortedNames = backwardByName.Keys.Order(StringComparer.Ordinal).ToArray();
            bool HasBackward(string onnxName)
            {
                bool ok = !backwardByName.TryGetValue(onnxName, out var own) || own;
                var prefix = onnxName + "/";
                int i = Array.BinarySearch(sortedNames, prefix, StringComparer.Ordinal);
                for (i = i < 0 ? ~i : i; ok && i < sortedNames.Length && sortedNames[i].StartsWith(prefix, StringComparison.Ordinal); i++) ok = backwardByName[sortedNames[i]];
                return ok;
            }
            var backwardByOp = m.OnnxNodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.All(n => HasBackward(n.Name)));
            var support = m.OpHistogram.Keys.Select(op =>
            {
                var conv = OnnxOpRegistry.Find(op);
                return new
                {
                    op,
                    forward = conv != null,
                    backward = conv != null && backwardByOp.GetValueOrDefault(op, true),
                    folded_at_import = conv is { Runtime: false },
                };
            }).ToArray();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    file = m.File,
                    ir_version = m.IrVersion,
                    opset = m.Opset,
                    producer = m.Producer,
                    inputs = m.Inputs.Select(i => new { name = i.Name, type = i.ElementType.ToString(), shape = i.Dims }),
                    outputs = m.Outputs.Select(o => new { name = o.Name, type = o.ElementType.ToString(), shape = o.Dims }),
                    op_histogram = m.OpHistogram,
                    runtime_nodes = m.Graph.Nodes.Count,
                    parameters_total = m.Graph.ParameterCount,
                    parameter_tensors = m.Graph.Parameters.Count(p => !p.IsConstant),
                    trainable_parameters = m.Graph.ParameterCount - statisticsCount,
                    batch_norm_statistics = statisticsCount,
                    constants_total = m.Graph.ConstantCount,
                    constant_tensors = constants.Count,
                    layers,
                    op_support = support,
                    metadata = m.Metadata,
                }));
                return 0;
            }
            Console.WriteLine($"{m.File}");
            Console.WriteLine($"  IR {m.IrVersion}, opset {m.Opset}, producer '{m.Producer}'");
            foreach (var i in m.Inputs) Console.WriteLine($"  input  {i.Name} {i.ElementType} {FormatDims(i.Dims)}");
            foreach (var o in m.Outputs) Console.WriteLine($"  output {o.Name} {o.ElementType} {FormatDims(o.Dims)}");
            Console.WriteLine("  ops (count, forward, backward):");
            foreach (var s in support)
                Console.WriteLine($"    {s.op,-22} {m.OpHistogram[s.op],4}  forward {(s.forward ? (s.folded_at_import ? "folded at import" : "yes") : "NO")}  backward {(s.backward ? "yes" : "no")}");
            Console.WriteLine("  parameters per layer:");
            foreach (var l in layers)
                Console.WriteLine($"    {l.node,-32} {l.op,-20} {l.parameters.Sum(p => (long)p.count),10:N0}  {string.Join(" ", l.parameters.Select(p => p.name + Shapes.Format(p.shape)))}");
            Console.WriteLine($"  total parameters: {m.Graph.ParameterCount:N0} in {m.Graph.Parameters.Count(p => !p.IsConstant)} tensors " +
                $"(trainable {m.Graph.ParameterCount - statisticsCount:N0}, batch-norm statistics {statisticsCount:N0}); " +
                $"constants {m.Graph.ConstantCount:N0} in {constants.Count} tensors; {m.Graph.Nodes.Count} runtime nodes");
            return 0;
        });
        return cmd;
    }

    static string FormatDims(int[] d) => "[" + string.Join(",", d.Select(x => x < 0 ? "?" : x.ToString())) + "]";
}
