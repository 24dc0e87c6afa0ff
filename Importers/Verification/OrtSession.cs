using Microsoft.ML.OnnxRuntime;
using TransferKit.Toolkit.Tensors;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace TransferKit.Importers.Verification;

/// <summary>
/// Plain ONNX Runtime inference on a model file with one input: feed a float32 batch (converted to the model's input
/// type), get the first output back as float32. A model whose batch is fixed in the file is run one fixed-size slice
/// at a time (the last slice padded with zeros) and the results joined. Used by the <c>evaluate</c> and
/// <c>predict</c> verbs as the reference engine; like <see cref="OrtReference"/>, it keeps ONNX Runtime inside
/// Verification.
/// </summary>
public sealed class OrtSession : IDisposable
{
    readonly InferenceSession _session;
    readonly string _input, _output;
    readonly TensorElementType _inputType;

    public OrtSession(string path, int threads = 0)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        File = path;
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        if (threads > 0) options.IntraOpNumThreads = threads;
        _session = new InferenceSession(path, options);
        if (_session.InputMetadata.Count != 1)
        {
            var names = string.Join(", ", _session.InputMetadata.Keys);
            _session.Dispose();
            throw new NotSupportedException($"{path}: the model has {names.Split(", ").Length} inputs ({names}); only single-input models can be run here.");
        }
        var (name, meta) = _session.InputMetadata.First();
        _input = name;
        _inputType = meta.ElementDataType;
        InputDims = meta.Dimensions.ToArray();
        _output = _session.OutputMetadata.Keys.First();
        Metadata = _session.ModelMetadata.CustomMetadataMap.ToDictionary(p => p.Key, p => p.Value);
    }

    public string File { get; }

    /// <summary>The input's declared dimensions; -1 for a symbolic one.</summary>
    public int[] InputDims { get; }

    /// <summary>The file's metadata_props.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Runs the model on <paramref name="input"/> (batch first) and returns its first output as float32.</summary>
    public Tensor Run(Tensor input)
    {
        int batch = input.Dim(0);
        int fixedBatch = InputDims.Length > 0 ? InputDims[0] : -1;
        if (fixedBatch <= 0 || fixedBatch == batch) return RunOnce(input);
        int per = input.Length / batch;
        var parts = new List<Tensor>();
        for (int s = 0; s < batch; s += fixedBatch)
        {
            int n = Math.Min(fixedBatch, batch - s);
            var shape = input.ShapeArray; shape[0] = fixedBatch;
            var slice = new float[fixedBatch * per];
            input.Span.Slice(s * per, n * per).CopyTo(slice);
            var y = RunOnce(new Tensor(shape, slice));
            int outPer = y.Length / fixedBatch;
            var outShape = y.ShapeArray; outShape[0] = n;
            parts.Add(new Tensor(outShape, y.Span[..(n * outPer)].ToArray()));
        }
        var joined = parts[0].ShapeArray; joined[0] = batch;
        return new Tensor(joined, parts.SelectMany(p => p.Span.ToArray()).ToArray());
    }

    Tensor RunOnce(Tensor input)
    {
        var shape = input.ShapeArray.Select(d => (long)d).ToArray();
        using var value = _inputType switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(input.Span.ToArray(), shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(input.Span.ToArray().Select(v => (Float16)v).ToArray(), shape),
            TensorElementType.Double => OrtValue.CreateTensorValueFromMemory(input.Span.ToArray().Select(v => (double)v).ToArray(), shape),
            var t => throw new NotSupportedException($"{File}: input '{_input}' has element type {t}; only float, float16 and double inputs can be fed."),
        };
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, [_input], [value], [_output]);
        var info = results[0].GetTensorTypeAndShape();
        float[] data = info.ElementDataType switch
        {
            TensorElementType.Float => results[0].GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Float16 => results[0].GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)h).ToArray(),
            TensorElementType.Double => results[0].GetTensorDataAsSpan<double>().ToArray().Select(d => (float)d).ToArray(),
            var t => throw new NotSupportedException($"{File}: output '{_output}' has element type {t}; only float, float16 and double outputs can be read."),
        };
        return new Tensor(info.Shape.Select(d => (int)d).ToArray(), data);
    }

    public void Dispose() => _session.Dispose();
}
