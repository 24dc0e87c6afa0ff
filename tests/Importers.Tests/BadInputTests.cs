using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.Importers.Tests;

/// <summary>Malformed models are refused with a specific message naming the file (and node), never a crash or a hang.</summary>
public class BadInputTests
{
    static OnnxImportException Refused(string path) => Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(path));

    static ModelBuilder ReluModel()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        b.Node("Relu", ["x"], ["y"], "relu");
        return b;
    }

    [Fact]
    public void TruncatedFile()
    {
        var bytes = File.ReadAllBytes(SharedAssets.Model("mnist-8.onnx"));
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Refused(path);
        Assert.Contains("truncated.onnx", e.Message);
    }

    [Fact]
    public void FileThatIsNotProtobuf()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "notes.onnx");
        File.WriteAllText(path, "this is a text file, not an ONNX model\n");
        var e = Refused(path);
        Assert.Contains("notes.onnx", e.Message);
        Assert.Contains("not", e.Message);
    }

    [Fact]
    public void EmptyFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "empty.onnx");
        File.WriteAllBytes(path, []);
        Assert.Contains("empty", Refused(path).Message);
    }

    [Fact]
    public void UnknownOpIsNamedWithOpsetAndNode()
    {
        var b = new ModelBuilder(13).Input("x", 1, 4).Output("y", 1, 4);
        b.Node("FrobnicateV2", ["x"], ["y"], "mystery_node");
        var path = b.Save("unknown_op.onnx");
        var e = Refused(path);
        Assert.Contains("FrobnicateV2", e.Message);
        Assert.Contains("opset 13", e.Message);
        Assert.Contains("mystery_node", e.Message);
        Assert.Contains("unknown_op.onnx", e.Message);
    }

    [Fact]
    public void UnknownDomain()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        b.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.example", Version = 1 });
        b.Node("Relu", ["x"], ["y"], "custom", domain: "com.example");
        var e = Refused(b.Save());
        Assert.Contains("com.example", e.Message);
        Assert.Contains("custom", e.Message);
    }

    [Fact]
    public void OpsetOutsideTheSupportedRange()
    {
        var b = new ModelBuilder(5).Input("x", 1, 4).Output("y", 1, 4);
        b.Node("Relu", ["x"], ["y"], "relu");
        Assert.Contains("opset 5", Refused(b.Save()).Message);
    }

    [Fact]
    public void OpNewerThanTheModelsOpset()
    {
        var b = new ModelBuilder(13).Input("x", 1, 4).Output("y", 1, 4);
        b.Node("HardSwish", ["x"], ["y"], "hs");
        var e = Refused(b.Save());
        Assert.Contains("HardSwish", e.Message);
        Assert.Contains("opset 13", e.Message);
    }

    [Fact]
    public void CyclicGraph()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        b.Node("Add", ["x", "b"], ["a"], "first");
        b.Node("Relu", ["a"], ["b"], "second");
        b.Node("Relu", ["a"], ["y"], "third");
        var e = Refused(b.Save("cycle.onnx"));
        Assert.Contains("cycle", e.Message);
        Assert.True(e.NodeName is "first" or "second", e.Message);
    }

    [Fact]
    public void InputNobodyProduces()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        b.Node("Add", ["x", "ghost"], ["y"], "adder");
        var e = Refused(b.Save());
        Assert.Contains("ghost", e.Message);
        Assert.Contains("adder", e.Message);
    }

    [Fact]
    public void ShapeWhoseElementCountOverflows()
    {
        var b = ReluModel();
        var t = new TensorProto { Name = "huge", DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange([1L << 20, 1L << 20, 1L << 20]);
        b.Graph.Initializer.Add(t);
        var e = Refused(b.Save("overflow.onnx"));
        Assert.Contains("huge", e.Message);
        Assert.Contains("elements", e.Message);
    }

    [Fact]
    public void ConstantOfShapeWhoseElementCountOverflows()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        var shape = new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(3);
        shape.Int64Data.AddRange([1L << 30, 1L << 30, 1L << 30]);
        b.Graph.Initializer.Add(shape);
        b.Node("ConstantOfShape", ["s"], ["big"], "filler");
        b.Node("Add", ["x", "big"], ["y"], "adder");
        var e = Refused(b.Save());
        Assert.Contains("filler", e.Message);
        Assert.Contains("elements", e.Message);
    }

    static ModelBuilder ExternalWeightModel(string location)
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.AddRange([1L, 4L]);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        b.Graph.Initializer.Add(w);
        b.Node("Add", ["x", "w"], ["y"], "adder");
        return b;
    }

    [Fact]
    public void ExternalDataInsideTheModelFolderIsRead()
    {
        var path = ExternalWeightModel("weights.bin").Save();
        var data = new float[] { 1, 2, 3, 4 };
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "weights.bin"), data.SelectMany(BitConverter.GetBytes).ToArray());
        var m = OnnxImporter.Import(path);
        Assert.Equal(data, m.Graph.Parameters.Single().Value.Span.ToArray());
    }

    [Fact]
    public void ExternalDataPathOutsideTheModelFolder()
    {
        var e = Refused(ExternalWeightModel("../outside.bin").Save("escape.onnx"));
        Assert.Contains("outside", e.Message);
        Assert.Contains("'w'", e.Message);
        var abs = Refused(ExternalWeightModel("/etc/passwd").Save());
        Assert.Contains("absolute", abs.Message);
    }

    [Fact]
    public void MissingExternalDataFile()
    {
        var e = Refused(ExternalWeightModel("missing.bin").Save("needs_data.onnx"));
        Assert.Contains("missing.bin", e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.Contains("needs_data.onnx", e.Message);
    }

    [Fact]
    public void ExternalDataShorterThanItsShape()
    {
        var path = ExternalWeightModel("short.bin").Save();
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "short.bin"), new byte[6]);
        Assert.Contains("short.bin", Refused(path).Message);
    }

    [Fact]
    public void WeightWithTooFewValues()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4).Initializer("w", [1, 4], [1, 2]);
        b.Node("Add", ["x", "w"], ["y"], "adder");
        Assert.Contains("'w'", Refused(b.Save()).Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheNode()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4).Initializer("w", [3], [1, 2, 3]);
        b.Node("Add", ["x", "w"], ["y"], "bad_add");
        var e = Refused(b.Save());
        Assert.Contains("bad_add", e.Message);
        Assert.Contains("broadcast", e.Message);
    }
}
