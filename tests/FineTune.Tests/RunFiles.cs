using System.Runtime.InteropServices;
using TransferKit.FineTune.Checkpoints;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Serialization;

namespace TransferKit.FineTune.Tests;

/// <summary>What two runs are compared by: parameter bytes of checkpoints and of tuned.onnx, and metrics.csv without timings.</summary>
static class RunFiles
{
    public static Dictionary<string, byte[]> CheckpointParameters(string tkc) =>
        CheckpointFile.Load(tkc).ReadParameters().ToDictionary(kv => kv.Key, kv => MemoryMarshal.AsBytes(kv.Value.Span).ToArray());

    public static Dictionary<string, byte[]> OnnxParameters(string onnx) =>
        OnnxImporter.Import(onnx).Graph.Parameters.ToDictionary(p => p.Name, p => MemoryMarshal.AsBytes(p.Value.Span).ToArray());

    /// <summary>metrics.csv without the seconds column (wall time differs between runs).</summary>
    public static string[] MetricsWithoutTime(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();

    /// <summary>Asserts bit-identical final weights: last and best checkpoints, tuned.onnx, and the same metrics.</summary>
    public static void AssertSameRun(string expectedDir, string actualDir)
    {
        AssertSameBytes(CheckpointParameters(RunCheckpoint.LastPath(expectedDir)), CheckpointParameters(RunCheckpoint.LastPath(actualDir)), "last.tkc");
        AssertSameBytes(CheckpointParameters(RunCheckpoint.BestPath(expectedDir)), CheckpointParameters(RunCheckpoint.BestPath(actualDir)), "best.tkc");
        AssertSameBytes(OnnxParameters(Path.Combine(expectedDir, "tuned.onnx")), OnnxParameters(Path.Combine(actualDir, "tuned.onnx")), "tuned.onnx");
        Assert.Equal(MetricsWithoutTime(expectedDir), MetricsWithoutTime(actualDir));
    }

    static void AssertSameBytes(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{what}: parameter '{name}' differs");
    }
}
