using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>
/// Runs a model in ONNX Runtime, fed in the model's own input type (float16 models get float16 inputs).
/// Models whose batch is fixed in the file are run one fixed-size slice at a time and the results joined.
/// This is, with <see cref="Verifier"/>, the only code that calls ONNX Runtime.
/// </summary>
public sealed class OrtReference : IDisposable
{
    readonly InferenceSession _session;
    readonly ImportedModel _model;
    readonly string[] _outputNames;

    /// <param name="extraOutputs">Intermediate values to expose as additional outputs (per-node comparison).</param>
    public OrtReference(ImportedModel model, IReadOnlyList<string>? extraOutputs = null, int threads = 0)
    {
        _model = model;
        var proto = model.Proto.Clone();
        var outs = proto.Graph.Output.Select(o => o.Name).ToList();
        if (extraOutputs != null)
        {
            var elem = model.Outputs.Count > 0 && model.Outputs[0].ElementType == OnnxDataType.Float16 ? OnnxDataType.Float16 : OnnxDataType.Float;
            foreach (var name in extraOutputs.Where(n => !outs.Contains(n)))
            {
                proto.Graph.Output.Add(new ValueInfoProto
                {
                    Name = name,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elem } },
                });
                outs.Add(name);
            }
        }
        _outputNames = outs.ToArray();
        using var options = new SessionOptions { GraphOptimizationLevel = extraOutputs == null ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
        // External data resolves against the model's folder: ONNX Runtime gets the file's path when the model is
        // run as written, and the folder (as a session option) when it gets the modified model's bytes.
        bool external = proto.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External);
        var folder = Path.GetDirectoryName(Path.GetFullPath(model.File));
        if (external && folder != null) options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", folder);
        _session = external && extraOutputs == null && System.IO.File.Exists(model.File)
            ? new InferenceSession(model.File, options)
            : new InferenceSession(proto.ToByteArray(), options);
    }

    public IReadOnlyList<string> OutputNames => _outputNames;

    /// <summary>Runs the model; returns every output (by name) as float32.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyList<Tensor> inputs)
    {
        if (inputs[0].Rank == 0) return RunOnce(inputs);   // a scalar input has no batch axis to slice
        int batch = inputs[0].Dim(0);
        int fixedBatch = _model.Inputs[0].Dims.Length > 0 ? _model.Inputs[0].Dims[0] : -1;
        if (fixedBatch > 0 && fixedBatch != batch)
        {
            if (batch % fixedBatch != 0)
                throw new ArgumentException($"Batch {batch} is not a multiple of the model's fixed batch {fixedBatch}.");
            var parts = new List<Dictionary<string, Tensor>>();
            for (int s = 0; s < batch; s += fixedBatch) parts.Add(RunOnce(inputs.Select(t => SliceBatch(t, s, fixedBatch)).ToList()));
            return parts[0].Keys.ToDictionary(k => k, k => JoinBatch(parts.Select(p => p[k]).ToList()));
        }
        return RunOnce(inputs);
    }

    Dictionary<string, Tensor> RunOnce(IReadOnlyList<Tensor> inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                var t = inputs[i];
                var shape = t.ShapeArray.Select(d => (long)d).ToArray();
                values.Add(_model.Inputs[i].ElementType switch
                {
                    OnnxDataType.Float16 => OrtValue.CreateTensorValueFromMemory(t.Span.ToArray().Select(v => (Float16)v).ToArray(), shape),
                    OnnxDataType.Double => OrtValue.CreateTensorValueFromMemory(t.Span.ToArray().Select(v => (double)v).ToArray(), shape),
                    _ => OrtValue.CreateTensorValueFromMemory(t.Span.ToArray(), shape),
                });
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, _model.Inputs.Select(i => i.Name).ToArray(), values, _outputNames);
            var dict = new Dictionary<string, Tensor>();
            for (int o = 0; o < _outputNames.Length; o++) dict[_outputNames[o]] = ToTensor(results[o]);
            return dict;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    static Tensor ToTensor(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var shape = info.Shape.Select(d => (int)d).ToArray();
        float[] data = info.ElementDataType switch
        {
            TensorElementType.Float => v.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Float16 => v.GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)h).ToArray(),
            TensorElementType.Double => v.GetTensorDataAsSpan<double>().ToArray().Select(d => (float)d).ToArray(),
            var t => throw new NotSupportedException($"ONNX Runtime output of type {t} cannot be compared."),
        };
        return new Tensor(shape, data);
    }

    static Tensor SliceBatch(Tensor t, int start, int count)
    {
        int per = t.Length / t.Dim(0);
        var shape = t.ShapeArray; shape[0] = count;
        return new Tensor(shape, t.Data.AsSpan(start * per, count * per).ToArray());
    }

    static Tensor JoinBatch(IReadOnlyList<Tensor> parts)
    {
        if (parts[0].Rank == 0) return parts[0];
        var shape = parts[0].ShapeArray; shape[0] = parts.Sum(p => p.Dim(0));
        return new Tensor(shape, parts.SelectMany(p => p.Span.ToArray()).ToArray());
    }

    public void Dispose() => _session.Dispose();
}
