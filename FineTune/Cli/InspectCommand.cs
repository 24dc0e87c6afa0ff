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
        var inputSize = new Option<int>("--input-size") { Description = "Show every layer's output shape (Keras' summary()) for inputs of this height and width at batch 1; without it, shapes are shown when the model's input sizes are fixed." };
        var cmd = new Command("inspect", "Show a model's inputs, outputs, IR and opset, op histogram, parameters per layer and which ops TransferKit runs forward and backward.")
        {
            model, modelOption, json, inputSize,
        };
        var limits = new ImportLimitOptions();
        limits.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var m = OnnxImporter.Import(ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption)), limits.Get(parse));
            int size = parse.GetValue(inputSize);
            if (size < 0 || size > Training.OptionLimits.MaxImageSize) throw new CliException($"--input-size {size}: give a height and width from 1 to {Training.OptionLimits.MaxImageSize} (0: the model's own).");
            var shapes = LayerShapes(m, size);
            var layers = m.Graph.Nodes
                .Select(n => new { node = n.Name, layer = LayerName(n), op = n.Op.Type, output_shape = shapes?[n.Outputs[0].Id], parameters = n.Inputs.Where(v => v.Kind == ValueKind.Parameter && !v.Parameter!.IsConstant).Select(v => new { name = v.Name, shape = v.Parameter!.Value.ShapeArray, count = v.Parameter.Value.Length }).ToArray() })
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
            // The run-time nodes an ONNX node became: its own name and its composite parts (name + "/…"); none when folded.
            IEnumerable<string> RuntimeNodes(string onnxName)
            {
                if (backwardByName.ContainsKey(onnxName)) yield return onnxName;
                var prefix = onnxName + "/";
                int i = Array.BinarySearch(sortedNames, prefix, StringComparer.Ordinal);
                for (i = i < 0 ? ~i : i; i < sortedNames.Length && sortedNames[i].StartsWith(prefix, StringComparison.Ordinal); i++) yield return sortedNames[i];
            }
            var byOp = m.OnnxNodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Select(n => RuntimeNodes(n.Name).ToList()).ToList());
            var backwardByOp = byOp.ToDictionary(kv => kv.Key, kv => kv.Value.All(parts => parts.All(name => backwardByName[name])));
            // How many of an op's nodes were evaluated at import (constant inputs) rather than kept as run-time work.
            var foldedByOp = byOp.ToDictionary(kv => kv.Key, kv => kv.Value.Count(parts => parts.Count == 0));
            var support = m.OpHistogram.Keys.Select(op =>
            {
                var conv = OnnxOpRegistry.Find(op);
                return new
                {
                    op,
                    forward = conv != null,
                    backward = conv != null && backwardByOp.GetValueOrDefault(op, true),
                    folded_at_import = conv is { Runtime: false } || (conv != null && foldedByOp.GetValueOrDefault(op) == m.OpHistogram[op]),
                    nodes_folded = foldedByOp.GetValueOrDefault(op),
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
                    output_shapes = shapes == null ? null : m.Graph.Nodes.Select(n => new { node = n.Name, layer = LayerName(n), op = n.Op.Type, shape = shapes[n.Outputs[0].Id] }),
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
                Console.WriteLine($"    {s.op,-22} {m.OpHistogram[s.op],4}  forward {(s.forward ? (s.folded_at_import ? "folded at import" : s.nodes_folded > 0 ? $"yes ({s.nodes_folded} of them folded at import)" : "yes") : "NO")}  backward {(s.backward ? "yes" : "no")}");
            if (m.Metadata.Count > 0)
            {
                Console.WriteLine("  metadata:");
                foreach (var (key, value) in m.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    Console.WriteLine($"    {key,-32} {(value.Length > MetadataWidth ? value[..MetadataWidth] + $"… ({value.Length} characters)" : value)}");
            }
            if (shapes != null)
            {
                Console.WriteLine($"  layers (output shape for input {string.Join(", ", m.Graph.Inputs.Select(i => Shapes.Format(shapes[i.Id])))}; parameters):");
                foreach (var n in m.Graph.Nodes)
                {
                    long count = n.Inputs.Where(v => v.Kind == ValueKind.Parameter && !v.Parameter!.IsConstant).Sum(v => (long)v.Parameter!.Value.Length);
                    Console.WriteLine($"    {Named(n),-40} {n.Op.Type,-20} {Shapes.Format(shapes[n.Outputs[0].Id]),-20} {(count > 0 ? count.ToString("N0") : ""),10}");
                }
            }
            else Console.WriteLine("  (the model's input sizes are not fixed: --input-size S shows every layer's output shape)");
            Console.WriteLine("  parameters per layer:");
            foreach (var l in layers)
                Console.WriteLine($"    {Named(m.Graph.Nodes.First(n => n.Name == l.node)),-40} {l.op,-20} {l.parameters.Sum(p => (long)p.count),10:N0}  {string.Join(" ", l.parameters.Select(p => p.name + Shapes.Format(p.shape)))}");
            Console.WriteLine($"  total parameters: {m.Graph.ParameterCount:N0} in {m.Graph.Parameters.Count(p => !p.IsConstant)} tensors " +
                $"(trainable {m.Graph.ParameterCount - statisticsCount:N0}, batch-norm statistics {statisticsCount:N0}); " +
                $"constants {m.Graph.ConstantCount:N0} in {constants.Count} tensors; {m.Graph.Nodes.Count} runtime nodes");
            return 0;
        });
        return cmd;
    }

    /// <summary>Metadata values longer than this (a label list) are cut in the text listing.</summary>
    const int MetadataWidth = 100;

    /// <summary>The shape of every value for batch 1 and, where the model's axes are free, <paramref name="size"/>;
    /// null when a free axis other than the batch has no size.</summary>
    static int[][]? LayerShapes(ImportedModel m, int size)
    {
        var inputs = new int[m.Graph.Inputs.Count][];
        for (int i = 0; i < inputs.Length; i++)
        {
            var dims = m.Inputs[i].Dims.ToArray();
            if (dims.Length > 0 && dims[0] < 0) dims[0] = 1;
            // Spatial axes: H and W of an NCHW image (the last two), or of NHWC when the last axis is the channel one.
            bool nhwc = dims.Length == 4 && dims[3] is 1 or 3 && dims[1] is not (1 or 3);
            int[] spatial = dims.Length == 4 ? (nhwc ? [1, 2] : [2, 3]) : [];
            foreach (int a in spatial) if (size > 0) dims[a] = size;
            if (dims.Any(d => d < 0)) return null;
            inputs[i] = dims;
        }
        try { return m.Graph.InferShapes(inputs); }
        catch (ShapeException e) { throw new CliException($"{m.File}: no layer shapes for input {string.Join(", ", inputs.Select(d => Shapes.Format(d)))}: {e.Message}"); }
    }

    /// <summary>The layer's name in the original framework where its weights carry one (<c>conv10</c> for SqueezeNet's
    /// <c>Conv_62</c> with weights <c>conv10_w_0</c>, <c>conv10_b_0</c>): the common stem of its weights' names.</summary>
    internal static string? LayerName(Node n)
    {
        var names = n.Inputs.Where(v => v.Kind == ValueKind.Parameter && !v.Parameter!.IsConstant).Select(v => v.Parameter!.Name).Distinct().ToList();
        if (names.Count == 0) return null;
        string stem = names[0];
        if (names.Count > 1)
        {
            int k = 0;
            while (names.All(x => x.Length > k && x[k] == stem[k])) k++;
            stem = stem[..k];
        }
        else
        {
            // One weight: a name only when it ends like a framework's weight name (conv1_w_0, fc.weight), else none.
            var suffix = WeightSuffixes.FirstOrDefault(x => stem.EndsWith(x, StringComparison.OrdinalIgnoreCase) && stem.Length > x.Length);
            if (suffix == null) return null;
            stem = stem[..^suffix.Length];
        }
        stem = stem.TrimEnd('_', '.', '/', ':');
        return stem.Length == 0 || stem == n.Name ? null : stem;
    }

    static readonly string[] WeightSuffixes = ["_w_0", "_b_0", ".w_0", ".b_0", ".weight", ".bias", "_weights", "_weight", "_bias", "/weights", "/kernel", "_w", "_b"];

    static string Named(Node n) => LayerName(n) is { } layer ? $"{n.Name} ({layer})" : n.Name;

    static string FormatDims(int[] d) => "[" + string.Join(",", d.Select(x => x < 0 ? "?" : x.ToString())) + "]";
}
