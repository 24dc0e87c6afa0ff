using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>
/// ONNX Runtime set up as the speed reference for <c>bench</c>: <c>IntraOpNumThreads</c> = the thread count asked for,
/// one inter-op thread, sequential execution, every graph optimization on. The inputs are converted to the model's
/// input types once (<see cref="Prepare"/>), so <see cref="Run"/> times the session alone. A model whose batch is fixed
/// in the file gets its leading input and output dimensions made symbolic so the whole batch runs in one call, as the
/// native plan does; if ONNX Runtime refuses that (a reshape to the fixed batch inside), the batch is run one
/// fixed-size slice at a time.
/// </summary>
public sealed class OrtBenchmarkSession : IDisposable
{
    readonly InferenceSession _session;
    readonly ImportedModel _model;
    readonly string[] _outputs;
    readonly int _sliceBatch;
    List<OrtValue[]> _prepared = [];

    /// <summary>Whether the batch runs as fixed-size slices (the model's own batch), not in one call.</summary>
    public bool Sliced => _sliceBatch > 0;

    /// <param name="profilePrefix">When set, ONNX Runtime writes its own per-node profile to a file starting with this path; <see cref="EndProfile"/> reads it.</param>
    public OrtBenchmarkSession(ImportedModel model, int threads, string? profilePrefix = null)
    {
        _model = model;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (threads > 0) options.IntraOpNumThreads = threads;
        if (profilePrefix != null) { options.ProfileOutputPathPrefix = profilePrefix; options.EnableProfiling = true; }
        var folder = Path.GetDirectoryName(Path.GetFullPath(model.File));
        if (folder != null && model.Proto.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", folder);
        _outputs = model.Proto.Graph.Output.Select(o => o.Name).ToArray();
        int fixedBatch = model.Inputs[0].Dims.Length > 0 ? model.Inputs[0].Dims[0] : -1;
        if (fixedBatch > 0)
        {
            try
            {
                _session = new InferenceSession(SymbolicBatch(model.Proto).ToByteArray(), options);
                return;
            }
            catch (OnnxRuntimeException) { _sliceBatch = fixedBatch; }
        }
        _session = new InferenceSession(model.Proto.ToByteArray(), options);
    }

    /// <summary>The model with the leading dimension of every graph input and output made symbolic and the intermediate shapes dropped (ONNX Runtime infers them).</summary>
    static ModelProto SymbolicBatch(ModelProto proto)
    {
        var p = proto.Clone();
        foreach (var v in p.Graph.Input.Concat(p.Graph.Output))
            if (v.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape) shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        p.Graph.ValueInfo.Clear();
        return p;
    }

    /// <summary>Converts the inputs (batch first) to ONNX Runtime values, kept for every later <see cref="Run"/>.</summary>
    public void Prepare(IReadOnlyList<Tensor> inputs)
    {
        foreach (var set in _prepared) foreach (var v in set) v.Dispose();
        _prepared = [];
        int batch = inputs[0].Rank > 0 ? inputs[0].Dim(0) : 1;
        int step = _sliceBatch > 0 ? _sliceBatch : batch;
        for (int s = 0; s < batch; s += step)
        {
            var set = new OrtValue[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                var t = inputs[i];
                int per = t.Rank > 0 ? t.Length / t.Dim(0) : t.Length;
                var shape = t.ShapeArray.Select(d => (long)d).ToArray();
                var data = t.Span;
                if (_sliceBatch > 0)
                {
                    // The last slice is padded with zeros to the model's batch.
                    shape[0] = step;
                    var slice = new float[step * per];
                    data.Slice(s * per, Math.Min(step, batch - s) * per).CopyTo(slice);
                    data = slice;
                }
                set[i] = _model.Inputs[i].ElementType switch
                {
                    OnnxDataType.Float16 => OrtValue.CreateTensorValueFromMemory(data.ToArray().Select(v => (Float16)v).ToArray(), shape),
                    OnnxDataType.Double => OrtValue.CreateTensorValueFromMemory(data.ToArray().Select(v => (double)v).ToArray(), shape),
                    _ => OrtValue.CreateTensorValueFromMemory(data.ToArray(), shape),
                };
            }
            _prepared.Add(set);
        }
    }

    /// <summary>One inference over the prepared batch; the outputs are dropped.</summary>
    public void Run()
    {
        if (_prepared.Count == 0) throw new InvalidOperationException("Prepare the inputs before running.");
        var names = _model.Inputs.Select(i => i.Name).ToArray();
        using var runOptions = new RunOptions();
        foreach (var set in _prepared)
        {
            using var results = _session.Run(runOptions, names, set, _outputs);
        }
    }

    /// <summary>
    /// Stops profiling and returns ONNX Runtime's kernel time per node (node name, the kernel's op type after ONNX
    /// Runtime's fusions — FusedConv and the like —, its first output's logical shape, and the median milliseconds over the runs so far, so warm-up runs
    /// do not count), read from its profile file, which is then deleted.
    /// </summary>
    public IReadOnlyList<(string Node, string Op, string Shape, double Milliseconds)> EndProfile()
    {
        var file = _session.EndProfiling();
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var events = doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("traceEvents");
            var times = new Dictionary<string, (string Op, string Shape, List<double> Ms)>();
            const string suffix = "_kernel_time";
            foreach (var e in events.EnumerateArray())
            {
                if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node") continue;
                var name = e.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
                name = name[..^suffix.Length];
                var op = e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var o) ? o.GetString() ?? "?" : "?";
                if (op is "Conv" or "FusedConv" && args.TryGetProperty("input_type_shape", out var inputs)) op = ConvKind(inputs);
                var shape = args.ValueKind == System.Text.Json.JsonValueKind.Object && args.TryGetProperty("output_type_shape", out var outs) && outs.GetArrayLength() > 0
                    ? string.Join('x', outs[0].EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt64())) : "";
                if (!times.TryGetValue(name, out var entry)) times[name] = entry = (op, shape, []);
                entry.Ms.Add(e.GetProperty("dur").GetDouble() / 1000.0);
            }
            return times.Select(kv => (kv.Key, kv.Value.Op, kv.Value.Shape, kv.Value.Ms.Order().ElementAt(kv.Value.Ms.Count / 2))).ToList();
        }
        finally { File.Delete(file); }
    }

    /// <summary>A convolution's kind from its logical input shapes ([{"float": [N, C, H, W]}, {"float": [M, C/g, kh, kw]}, …]), as the native profile names it.</summary>
    static string ConvKind(System.Text.Json.JsonElement inputs)
    {
        int[] Shape(int i) => inputs[i].EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt32()).ToArray();
        if (inputs.GetArrayLength() < 2) return "Conv";
        var (x, w) = (Shape(0), Shape(1));
        if (x.Length != 4 || w.Length != 4) return "Conv";
        return w[1] == 1 && x[1] > 1 ? "Conv depthwise" : w[2] == 1 && w[3] == 1 ? "Conv 1x1" : "Conv kxk";
    }

    public void Dispose()
    {
        foreach (var set in _prepared) foreach (var v in set) v.Dispose();
        _session.Dispose();
    }
}
