using System.Text.Json.Nodes;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Serialization;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Serialization;

/// <summary>The .tkc container: exact round trip, atomic replacement, and clear errors for damaged or mismatched files.</summary>
public class CheckpointFileTests
{
    static string TempPath() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-ckpt-").FullName, "c" + CheckpointFile.Extension);

    static CheckpointFile Sample()
    {
        var f = new CheckpointFile();
        f.Add("parameters/a", new Tensor([2, 2], [1f, float.Epsilon, -0f, 3.4e38f]));
        f.Add("parameters/b/with/slashes", new Tensor([3], [0.1f, 0.2f, 0.3f]));
        f.Add("empty", new Tensor([0, 4]));
        f.State["epoch"] = 3;
        f.State["lr"] = 1e-3f;
        f.State["names"] = new JsonArray("x", "y");
        return f;
    }

    [Fact]
    public void RoundTripIsExact()
    {
        var path = TempPath();
        Sample().Save(path);
        var back = CheckpointFile.Load(path);
        Assert.Equal(["parameters/a", "parameters/b/with/slashes", "empty"], back.Names);
        Assert.Equal([2, 2], back.Get("parameters/a").ShapeArray);
        Assert.Equal(
            Sample().Get("parameters/a").Span.ToArray().Select(BitConverter.SingleToInt32Bits),
            back.Get("parameters/a").Span.ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(0, back.Get("empty").Length);
        Assert.Equal(3, back.State["epoch"]!.GetValue<int>());
        Assert.Equal(1e-3f, back.State["lr"]!.GetValue<float>());
        Assert.Equal(path, back.Source);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
    }

    [Fact]
    public void SavingReplacesTheFileWhole()
    {
        var path = TempPath();
        Sample().Save(path);
        var second = new CheckpointFile();
        second.Add("only", new Tensor([1], [5f]));
        second.Save(path);
        Assert.Equal(["only"], CheckpointFile.Load(path).Names);
    }

    [Fact]
    public void DamageIsDetectedAndNamesTheFile()
    {
        var path = TempPath();
        Sample().Save(path);
        var bytes = File.ReadAllBytes(path);
        var flipped = (byte[])bytes.Clone();
        flipped[^40] ^= 1;   // inside the data block
        File.WriteAllBytes(path, flipped);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("SHA-256", e.Message);

        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("SHA-256", Assert.Throws<InvalidDataException>(() => CheckpointFile.Load(path)).Message);

        File.WriteAllText(path, "not a checkpoint at all, just some text long enough to pass the length check");
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => CheckpointFile.Load(path)).Message);
    }

    [Fact]
    public void ParametersMustMatchTheModel()
    {
        var a = new Parameter("w", new Tensor([2], [1f, 2f]));
        var bn = new Parameter("bn.running_var", new Tensor([2], [0.5f, 4f])) { Trainable = false };
        var f = new CheckpointFile();
        f.AddParameters([a, bn]);
        a.Value.Span.Fill(9f);
        bn.Value.Span.Fill(9f);
        f.RestoreParameters([a, bn]);
        Assert.Equal([1f, 2f], a.Value.Span.ToArray());
        Assert.Equal([0.5f, 4f], bn.Value.Span.ToArray());

        var wider = new Parameter("w", new Tensor(3));
        Assert.Contains("'w'", Assert.Throws<InvalidDataException>(() => f.RestoreParameters([wider, bn])).Message);
        Assert.Contains("lacks: bn.running_var", Assert.Throws<InvalidDataException>(() => f.RestoreParameters([a])).Message);
        var other = new Parameter("v", new Tensor(2));
        Assert.Contains("'v'", Assert.Throws<InvalidDataException>(() => f.RestoreParameters([a, bn, other])).Message);
    }
}
