using Google.Protobuf;
using Onnx;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>What an <see cref="IOnnxOp"/> sees of the node it imports: attributes, inputs (constant or runtime) and a way to emit.</summary>
public sealed class OnnxNodeContext
{
    readonly OnnxImporter.State _state;

    internal OnnxNodeContext(OnnxImporter.State state, NodeProto node, string name, int opset)
    {
        _state = state;
        Proto = node;
        Name = name;
        Opset = opset;
    }

    public NodeProto Proto { get; }
    /// <summary>The node's name (generated as OpType_index when the file has none).</summary>
    public string Name { get; }
    /// <summary>The model's default-domain opset.</summary>
    public int Opset { get; }
    public string OpType => Proto.OpType;
    public string File => _state.File;

    public OnnxImportException Error(string message) => new(_state.File, Name, $"{Proto.OpType} (opset {Opset}): {message}");

    // ---- attributes -------------------------------------------------------------------------

    AttributeProto? Attr(string name) => Proto.Attribute.FirstOrDefault(a => a.Name == name);
    public bool HasAttr(string name) => Attr(name) != null;
    public long Int(string name, long dflt) => Attr(name) is { } a ? a.I : dflt;
    public float Float(string name, float dflt) => Attr(name) is { } a ? a.F : dflt;
    public string String(string name, string dflt) => Attr(name) is { } a ? a.S.ToStringUtf8() : dflt;
    public int[]? Ints(string name) => Attr(name) is { } a ? a.Ints.Select(v => checked((int)Math.Clamp(v, int.MinValue, int.MaxValue))).ToArray() : null;
    public long[]? Longs(string name) => Attr(name) is { } a ? a.Ints.ToArray() : null;
    public float[]? Floats(string name) => Attr(name) is { } a ? a.Floats.ToArray() : null;
    public TensorProto? TensorAttr(string name) => Attr(name)?.T;

    // ---- inputs -----------------------------------------------------------------------------

    public int InputCount => Proto.Input.Count;
    /// <summary>True when input i is present (ONNX marks an omitted optional input with an empty name).</summary>
    public bool HasInput(int i) => i < Proto.Input.Count && Proto.Input[i].Length > 0;
    public string InputName(int i) => Proto.Input[i];
    public bool IsConstant(int i) => _state.Entry(Proto.Input[i], this).Const != null;

    /// <summary>The constant value of input i; an error when it is computed at run time.</summary>
    public ConstTensor Const(int i)
    {
        var e = _state.Entry(Proto.Input[i], this);
        return e.Const ?? throw Error($"input {i} ('{Proto.Input[i]}') must be a constant known at import time, but it is computed by the graph.");
    }

    /// <summary>
    /// The name of a float32 version of input i: the input itself when it is float or computed at run time, else a
    /// constant holding its values as floats (an int exponent of Pow, a bool condition of Where: the graph is float).
    /// </summary>
    public string FloatInput(int i)
    {
        var name = Proto.Input[i];
        var e = _state.Entry(name, this);
        if (e.Const == null || e.Const.IsFloat) return name;
        var floatName = $"{name}:float";
        _state.SetConst(floatName, new ConstTensor(OnnxDataType.Float, e.Const.Dims, e.Const.Data));
        return floatName;
    }

    /// <summary>The import-time shape of input i (batch as in the model).</summary>
    public int[] Shape(int i) => _state.Entry(Proto.Input[i], this).Shape;

    /// <summary>Whether axis 0 of input i carries the batch.</summary>
    public bool BatchLeading(int i) => _state.Entry(Proto.Input[i], this).BatchLeading;

    /// <summary>The import-time batch size of the model's inputs.</summary>
    public int ImportBatch => _state.ImportBatch;

    public ConstTensor? TensorOf(TensorProto t) => TensorProtoReader.Read(t, _state.File, Name, n => CheckConstantSize(n, $"tensor '{t.Name}'"));

    /// <summary>Refuses a constant of this many elements above the import memory budget (<see cref="ImportLimits"/>), before it is allocated.</summary>
    public void CheckConstantSize(long elements, string what) => _state.CheckConstant(elements, $"{OpType} (opset {Opset}): {what}", Name);

    /// <summary><see cref="ConstEval.Binary"/> on two constants, within the import memory budget.</summary>
    public ConstTensor FoldBinary(string op, ConstTensor a, ConstTensor b)
    {
        var shape = Shapes.Broadcast(a.Dims, b.Dims);
        CheckConstantSize(Shapes.ElementCount(shape), $"the folded {op} result {Shapes.Format(shape)}");
        return ConstEval.Binary(op, a, b);
    }

    // ---- outputs ----------------------------------------------------------------------------

    public int OutputCount => Proto.Output.Count;

    public void SetConst(int output, ConstTensor value) => _state.SetConst(Proto.Output[output], value);

    /// <summary>Output o is the same value as input i.</summary>
    public void Alias(int output, int input) => _state.Alias(Proto.Output[output], Proto.Input[input], this);

    /// <summary>
    /// Emits a runtime op over the given inputs (node input indices) with the node's outputs (or the given names).
    /// When every input is a constant the op is evaluated now and its outputs become constants.
    /// </summary>
    public void Emit(Op op, int[] inputs, int outputCount = -1) =>
        _state.Emit(this, op, inputs.Select(i => Proto.Input[i]).ToArray(),
            Proto.Output.Take(outputCount < 0 ? Proto.Output.Count : outputCount).ToArray(), Name);

    /// <summary>Emits a runtime op between arbitrary value names (for ops built from several Toolkit ops).</summary>
    public void EmitNamed(Op op, string[] inputNames, string[] outputNames, string nodeName) =>
        _state.Emit(this, op, inputNames, outputNames, nodeName);
}
