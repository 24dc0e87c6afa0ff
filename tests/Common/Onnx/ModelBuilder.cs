using Google.Protobuf;
using Onnx;

namespace TransferKit.Tests.Common.Onnx;

/// <summary>Builds small ONNX models in memory for tests.</summary>
public sealed class ModelBuilder
{
    public ModelProto Model { get; } = new()
    {
        IrVersion = 8,
        ProducerName = "transferkit-tests",
        Graph = new GraphProto { Name = "test" },
    };

    public ModelBuilder(int opset = 13) => Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });

    public GraphProto Graph => Model.Graph;

    public ModelBuilder Input(string name, params long[] dims)
    {
        Graph.Input.Add(ValueInfo(name, dims));
        return this;
    }

    public ModelBuilder Output(string name, params long[] dims)
    {
        Graph.Output.Add(ValueInfo(name, dims));
        return this;
    }

    public ModelBuilder Initializer(string name, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        Graph.Initializer.Add(t);
        return this;
    }

    public NodeProto Node(string opType, string[] inputs, string[] outputs, string name = "", string domain = "")
    {
        var n = new NodeProto { OpType = opType, Name = name, Domain = domain };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        Graph.Node.Add(n);
        return n;
    }

    public static ValueInfoProto ValueInfo(string name, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>Writes the model into a fresh temporary folder and returns the file path.</summary>
    public string Save(string fileName = "model.onnx")
    {
        var dir = Directory.CreateTempSubdirectory("transferkit-test-").FullName;
        var path = Path.Combine(dir, fileName);
        File.WriteAllBytes(path, Model.ToByteArray());
        return path;
    }
}
