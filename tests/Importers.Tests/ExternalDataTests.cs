using System.Diagnostics;
using Google.Protobuf;
using Onnx;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;

namespace TransferKit.Importers.Tests;

/// <summary>
/// External data is read only from regular files whose real path (symbolic links followed) lies inside the model's
/// real folder; bad entries are refused naming the model file and the tensor, never a hang; verification gives ONNX
/// Runtime the model's location so that its external data resolves there too.
/// </summary>
public class ExternalDataTests
{
    /// <summary>How long an import may take before it counts as hung.</summary>
    static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    static readonly float[] Weights = [1, 2, 3, 4];

    /// <summary>A model y = x + w with w [1,4] external at <paramref name="location"/>, in a fresh folder; returns its path.</summary>
    static string Model(string location, params (string Key, string Value)[] extra)
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.AddRange([1L, 4L]);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        foreach (var (k, v) in extra) w.ExternalData.Add(new StringStringEntryProto { Key = k, Value = v });
        b.Graph.Initializer.Add(w);
        b.Node("Add", ["x", "w"], ["y"], "adder");
        return b.Save("ext_model.onnx");
    }

    static byte[] WeightBytes => Weights.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>The import's error, within <see cref="HangLimit"/>.</summary>
    static OnnxImportException Refused(string path)
    {
        var task = Task.Run(() => OnnxImporter.Import(path));
        Assert.True(Task.WaitAny([task], HangLimit) == 0, $"importing {path} hung for {HangLimit}");
        var e = Assert.IsType<OnnxImportException>(Assert.IsType<AggregateException>(task.Exception).InnerException);
        Assert.Contains("ext_model.onnx", e.Message);
        Assert.Contains("tensor 'w'", e.Message);
        return e;
    }

    [Fact]
    public void AFileLinkPointingOutsideTheFolderIsRefused()
    {
        var path = Model("w.bin");
        var dir = Path.GetDirectoryName(path)!;
        File.CreateSymbolicLink(Path.Combine(dir, "w.bin"), "/etc/passwd");
        Assert.Contains("outside the model's folder", Refused(path).Message);

        // ../outside.bin through a link, the target being a readable file of the right size.
        var path2 = Model("w.bin");
        var dir2 = Path.GetDirectoryName(path2)!;
        var outside = Path.Combine(Path.GetDirectoryName(dir2)!, $"outside-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(outside, WeightBytes);
        File.CreateSymbolicLink(Path.Combine(dir2, "w.bin"), Path.Combine("..", Path.GetFileName(outside)));
        Assert.Contains("outside the model's folder", Refused(path2).Message);
    }

    [Fact]
    public void AFolderLinkToTheRootIsRefused()
    {
        var path = Model("lnk/etc/passwd");
        Directory.CreateSymbolicLink(Path.Combine(Path.GetDirectoryName(path)!, "lnk"), "/");
        Assert.Contains("outside the model's folder", Refused(path).Message);
    }

    [Fact]
    public void ALinkThatStaysInsideTheFolderIsRead()
    {
        var path = Model("w.bin");
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        File.WriteAllBytes(Path.Combine(dir, "data", "real.bin"), WeightBytes);
        File.CreateSymbolicLink(Path.Combine(dir, "w.bin"), "data/real.bin");
        Assert.Equal(Weights, OnnxImporter.Import(path).Graph.Parameters.Single().Value.Span.ToArray());
        // The model's folder itself reached through a link is fine: containment is between real paths.
        var linked = Path.Combine(Path.GetDirectoryName(dir)!, $"linked-{Guid.NewGuid():N}");
        Directory.CreateSymbolicLink(linked, dir);
        Assert.Equal(Weights, OnnxImporter.Import(Path.Combine(linked, "ext_model.onnx")).Graph.Parameters.Single().Value.Span.ToArray());
    }

    [Fact]
    public void AFifoIsRefusedWithoutHanging()
    {
        var path = Model("w.bin");
        var fifo = Path.Combine(Path.GetDirectoryName(path)!, "w.bin");
        using (var mk = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { UseShellExecute = false })!) mk.WaitForExit();
        Assert.True(File.Exists(fifo));
        Assert.Contains("not a regular file", Refused(path).Message);
        Assert.Contains("folder, not a file", Refused(ModelWithFolder()).Message);

        static string ModelWithFolder()
        {
            var p = Model("w.bin");
            Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(p)!, "w.bin"));
            return p;
        }
    }

    [Theory]
    [InlineData("offset", "abc")]
    [InlineData("offset", "9223372036854775813")]   // 2^63 + 5
    [InlineData("offset", "-4")]
    [InlineData("length", "abc")]
    public void ABadOffsetOrLengthNamesTheModelAndTensor(string key, string value)
    {
        var path = Model("w.bin", (key, value));
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "w.bin"), WeightBytes);
        var e = Refused(path);
        Assert.Contains($"{key} '{value}'", e.Message);
    }

    [Fact]
    public void AnOffsetPastTheEndAndANulInTheLocationAreRefused()
    {
        var path = Model("w.bin", ("offset", long.MaxValue.ToString()), ("length", "16"));
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "w.bin"), WeightBytes);
        Assert.Contains("runs past its end", Refused(path).Message);
        Assert.Contains("NUL", Refused(Model("w\0.bin")).Message);
        Assert.Contains("backslash", Refused(Model("sub\\w.bin")).Message);
        Assert.Contains("'..'", Refused(Model("sub/../w.bin")).Message);
    }

    [Fact]
    public void VerificationResolvesExternalDataAgainstTheModelFolder()
    {
        var path = Model("w.bin");
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "w.bin"), WeightBytes);
        Assert.NotEqual(Path.GetDirectoryName(path), Environment.CurrentDirectory);
        var model = OnnxImporter.Import(path);
        var report = Verifier.Verify(model, Verifier.RandomInputs(model, 1, 0));
        Assert.True(report.WithinTolerance);
        var perNode = Verifier.Verify(model, Verifier.RandomInputs(model, 1, 0), perNode: true);
        Assert.True(perNode.WithinTolerance);
    }

    [Fact]
    public void ADeclaredTensorLargerThanItsDataIsRefusedBeforeAllocating()
    {
        var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[64]) };
        w.Dims.AddRange([1000L, 1000, 100]);   // 10^8 elements: within the import budget, 64 bytes present
        b.Graph.Initializer.Add(w);
        b.Node("Add", ["x", "w"], ["y"], "adder");
        var path = b.Save("declared.onnx");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(path));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64L << 20, "allocated for the declared size");
        Assert.True(100_000_000L * ImportLimits.BytesPerConstantElement < ImportLimits.DefaultMemoryBudgetBytes);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("64 bytes", e.Message);
    }
}
