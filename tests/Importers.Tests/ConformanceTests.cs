using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Tests;

/// <summary>Runs every ONNX operator conformance case whose op types TransferKit supports, comparing with the shipped outputs.</summary>
public class ConformanceTests
{
    /// <summary>Expected outputs were computed by ONNX's numpy reference; our float32 kernels must match to the import rule.</summary>
    static readonly Tolerance Rule = Tolerance.Import;

    public static IEnumerable<object[]> Cases()
    {
        string root;
        try { root = Conformance.Root; }
        catch (DirectoryNotFoundException) { return [["(conformance data missing)"]]; }
        return Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Where(name => UsesOnlySupportedOps(Path.Combine(root, name!)))
            .Where(name => Conformance.ExclusionReason(Path.Combine(root, name!), Load(name!)) == null)
            .Select(name => new object[] { name! });
    }

    /// <summary>In-scope cases that are excluded (each with its reason in <see cref="Conformance"/>).</summary>
    public static IEnumerable<object[]> ExcludedCases()
    {
        string root;
        try { root = Conformance.Root; }
        catch (DirectoryNotFoundException) { return [["(conformance data missing)"]]; }
        return Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Where(name => UsesOnlySupportedOps(Path.Combine(root, name!)))
            .Where(name => Conformance.ExclusionReason(Path.Combine(root, name!), Load(name!)) != null)
            .Select(name => new object[] { name! });
    }

    [Theory]
    [MemberData(nameof(ExcludedCases))]
    public void ExcludedCaseIsRefusedWithAClearError(string name)
    {
        // The file as shipped must be refused by the importer with an error naming the file, never crash or run wrongly.
        var file = Path.Combine(Conformance.Root, name, "model.onnx");
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(file));
        Assert.Contains("model.onnx", e.Message);
    }

    static bool UsesOnlySupportedOps(string dir)
    {
        var file = Path.Combine(dir, "model.onnx");
        if (!File.Exists(file)) return false;
        ModelProto m;
        try { m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file)); } catch (InvalidProtocolBufferException) { return false; }
        // In scope: every node is a default-domain op we import and at least one runs at run time.
        return m.Graph.Node.All(n => n.Domain is "" or "ai.onnx" && OnnxOpRegistry.Find(n.OpType) != null)
               && m.Graph.Node.Any(n => OnnxOpRegistry.Find(n.OpType)!.Runtime);
    }

    [Fact]
    public void ConformanceDataIsInstalledAndCovered()
    {
        var cases = Cases().Select(c => (string)c[0]).ToList();
        Assert.DoesNotContain("(conformance data missing)", cases);
        Assert.True(cases.Count > 150, $"only {cases.Count} conformance cases run");
        foreach (var name in Conformance.Excluded.Keys)
            Assert.True(Directory.Exists(Path.Combine(Conformance.Root, name)), $"excluded case {name} does not exist");
    }

    /// <summary>The run-time shape ops' cases: each runs on a run-time tensor (its data a graph input), none is excluded.</summary>
    [Theory]
    [InlineData("test_gather_", 4)]
    [InlineData("test_slice", 8)]
    [InlineData("test_expand_", 2)]
    [InlineData("test_tile", 2)]
    public void RuntimeShapeOpCasesRun(string prefix, int count)
    {
        var cases = Cases().Select(c => (string)c[0]).Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && !n.StartsWith("test_gather_elements", StringComparison.Ordinal)).ToList();
        Assert.Equal(count, cases.Count);
        foreach (var name in cases)
        {
            var model = Load(name);
            var dataInput = model.Graph.Node[0].Input[0];
            Assert.Contains(model.Graph.Input, i => i.Name == dataInput);
            Assert.Null(Conformance.ExclusionReason(Path.Combine(Conformance.Root, name), model));
        }
    }

    static ModelProto Load(string name) =>
        ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Conformance.Root, name, "model.onnx")));

    [Theory]
    [MemberData(nameof(Cases))]
    public void CaseMatchesReference(string name)
    {
        var dir = Path.Combine(Conformance.Root, name);
        var proto = Load(name);
        foreach (var set in Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var (model, inputs) = ImportForSet(proto, dir, set);
            var plan = new ExecutionPlan(model.Graph, inputs.Select(t => t.ShapeArray).ToArray());
            var outputs = plan.Run(inputs);
            for (int o = 0; o < model.Outputs.Count; o++)
            {
                var expected = ReadTensor(Path.Combine(set, $"output_{o}.pb"));
                Assert.Equal(expected.ShapeArray, outputs[o].ShapeArray);
                var c = Rule.Compare(outputs[o].Span, expected.Span);
                Assert.True(c.Within, $"{name}/{Path.GetFileName(set)} output {o}: max_abs {c.MaxAbs:E3} max_rel {c.MaxRel:E3} at index {c.WorstIndex}");
            }
        }
    }

    /// <summary>
    /// Imports a case for one data set. Inputs that TransferKit folds at import (shapes, axes, pads, split sizes, Clip
    /// bounds, Dropout ratio) arrive as graph inputs in the conformance data; they are bound as initializers holding
    /// that data set's values, as an exported model would hold them.
    /// </summary>
    static (ImportedModel Model, Tensor[] Inputs) ImportForSet(ModelProto original, string dir, string set)
    {
        var proto = original.Clone();
        var realInputs = proto.Graph.Input.Where(i => proto.Graph.Initializer.All(t => t.Name != i.Name)).ToList();
        var data = realInputs.Select((vi, i) => (vi.Name, Tensor: TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(set, $"input_{i}.pb"))))).ToList();
        var bound = new HashSet<string>(realInputs.Where(vi => vi.Type?.TensorType?.ElemType != (int)OnnxDataType.Float).Select(vi => vi.Name));
        var file = Path.Combine(dir, "model.onnx");
        for (int attempt = 0; ; attempt++)
        {
            var p = proto.Clone();
            foreach (var (n, t) in data.Where(d => bound.Contains(d.Name)))
            {
                var init = t.Clone(); init.Name = n;
                p.Graph.Initializer.Add(init);
            }
            try
            {
                var model = OnnxImporter.Import(p, file);
                var inputs = data.Where(d => !bound.Contains(d.Name)).Select(d => TensorProtoReader.Read(d.Tensor, file, null).ToTensor()).ToArray();
                return (model, inputs);
            }
            catch (OnnxImportException e) when (attempt < 4 && e.Message.Contains("must be a constant known at import time"))
            {
                var start = e.Message.IndexOf("('", StringComparison.Ordinal) + 2;
                bound.Add(e.Message[start..e.Message.IndexOf("')", start, StringComparison.Ordinal)]);
            }
        }
    }

    static Tensor ReadTensor(string file)
    {
        var proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
        return TensorProtoReader.Read(proto, file, null).ToTensor();
    }
}
