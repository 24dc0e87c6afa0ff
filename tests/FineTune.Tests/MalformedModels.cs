using System.Diagnostics;
using Google.Protobuf;
using Onnx;
using TransferKit.Tests.Common.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// A seeded corpus of malformed models, generated from mnist-8 and small built models into a temporary folder:
/// truncations, byte flips, varint-field mutations (dimensions, data types, attributes, versions set to extreme
/// values), structural edits (nodes removed, duplicated or rewired, unknown ops and domains), huge shapes, long chains,
/// and external-data tricks (symbolic links out of the folder, a FIFO, bad offsets, NUL in the location).
/// </summary>
static class MalformedModels
{
    public const int Seed = 13;

    /// <summary>Values a mutated integer field takes: the edges of every integer width and a few small ones.</summary>
    static readonly long[] Extremes = [0, -1, 1, 2, 3, 1000, 1_000_000, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 1L << 40];

    public sealed record Case(string Category, string Name, string Path)
    {
        public override string ToString() => $"{Category}/{Name}";
    }

    public static IReadOnlyList<Case> Generate(string root)
    {
        var rng = new Random(Seed);
        var cases = new List<Case>();
        var original = File.ReadAllBytes(SharedAssets.Model("mnist-8.onnx"));
        string Write(string category, string name, byte[] bytes)
        {
            var dir = Path.Combine(root, category, name);
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(path, bytes);
            cases.Add(new Case(category, name, path));
            return path;
        }
        ModelProto Mnist() => ModelProto.Parser.ParseFrom(original);

        // Truncations: the first bytes, then seeded cut points.
        for (int n = 1; n <= 16; n++) Write("truncated", $"first-{n}", original[..n]);
        for (int i = 0; i < 104; i++) { int cut = rng.Next(17, original.Length); Write("truncated", $"at-{cut}-{i}", original[..cut]); }

        // Byte flips: 1–4 bytes XORed with a random non-zero value.
        for (int i = 0; i < 150; i++)
        {
            var bytes = (byte[])original.Clone();
            int flips = rng.Next(1, 5);
            for (int f = 0; f < flips; f++) bytes[rng.Next(bytes.Length)] ^= (byte)rng.Next(1, 256);
            Write("flipped", $"{i}-x{flips}", bytes);
        }

        // Varint fields set to extreme values.
        for (int i = 0; i < 130; i++)
        {
            var m = Mnist();
            long v = Extremes[rng.Next(Extremes.Length)];
            string what;
            switch (rng.Next(6))
            {
                case 0:
                    var init = m.Graph.Initializer[rng.Next(m.Graph.Initializer.Count)];
                    int d = rng.Next(init.Dims.Count + 1);
                    if (d == init.Dims.Count) init.Dims.Add(v); else init.Dims[d] = v;
                    what = $"init-{init.Name}-dim{d}";
                    break;
                case 1:
                    var t = m.Graph.Initializer[rng.Next(m.Graph.Initializer.Count)];
                    t.DataType = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
                    what = $"init-{t.Name}-type";
                    break;
                case 2:
                    var withAttrs = m.Graph.Node.Where(n => n.Attribute.Count > 0).ToList();
                    var node = withAttrs[rng.Next(withAttrs.Count)];
                    var a = node.Attribute[rng.Next(node.Attribute.Count)];
                    if (a.Ints.Count > 0) a.Ints[rng.Next(a.Ints.Count)] = v; else a.I = v;
                    what = $"attr-{node.Name}-{a.Name}";
                    break;
                case 3:
                    var dims = m.Graph.Input[0].Type.TensorType.Shape.Dim;
                    dims[rng.Next(dims.Count)] = new TensorShapeProto.Types.Dimension { DimValue = v };
                    what = "input-dim";
                    break;
                case 4:
                    m.OpsetImport[0].Version = v;
                    what = "opset";
                    break;
                default:
                    m.IrVersion = v;
                    what = "ir";
                    break;
            }
            Write("varint", $"{i}-{what}-{v}", m.ToByteArray());
        }

        // Structural edits.
        for (int i = 0; i < 84; i++)
        {
            var m = Mnist();
            var nodes = m.Graph.Node;
            int k = rng.Next(nodes.Count);
            string what;
            switch (i % 12)
            {
                case 0: nodes.RemoveAt(k); what = "node-removed"; break;
                case 1: nodes.Insert(k, nodes[k].Clone()); what = "node-duplicated"; break;
                case 2: if (nodes[k].Input.Count > 1) (nodes[k].Input[0], nodes[k].Input[1]) = (nodes[k].Input[1], nodes[k].Input[0]); what = "inputs-swapped"; break;
                case 3: nodes[k].Input[0] = "nowhere"; what = "input-missing"; break;
                case 4: nodes[k].Output[0] = nodes[Math.Max(0, k - 1)].Input[0]; what = "output-loops-back"; break;
                case 5: if (m.Graph.Initializer.Count > 0) m.Graph.Initializer.RemoveAt(rng.Next(m.Graph.Initializer.Count)); what = "initializer-removed"; break;
                case 6: nodes[k].OpType = "NotAnOp"; what = "unknown-op"; break;
                case 7: nodes[k].Domain = "com.example"; what = "other-domain"; break;
                case 8: m.Graph.Output.Clear(); what = "no-outputs"; break;
                case 9: m.Graph.Output[0].Name = "never-produced"; what = "output-missing"; break;
                case 10: nodes[k].Input.Clear(); what = "inputs-cleared"; break;
                default: nodes[k].Output.Clear(); what = "outputs-cleared"; break;
            }
            Write("structure", $"{i}-{what}-{k}", m.ToByteArray());
        }

        // Huge shapes.
        foreach (var (name, rows, cols) in new[] { ("30000x30000", 30000L, 30000L), ("int-max", (long)int.MaxValue, 2L), ("2^40", 1L << 40, 1L), ("negative", -5L, 3L), ("zero", 0L, 5L) })
        {
            var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
            var shape = new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { rows, cols } };
            b.Graph.Initializer.Add(shape);
            b.Node("ConstantOfShape", ["s"], ["big"], "filler");
            b.Node("Add", ["x", "big"], ["y"], "adder");
            Write("huge", $"constant-of-shape-{name}", b.Model.ToByteArray());
        }
        foreach (var dims in new[] { new long[] { 64, 3, 3000, 3000 }, [1L << 31, 2], [int.MaxValue, int.MaxValue], [1_000_000, 1_000_000, 1_000_000] })
        {
            var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
            var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[64]) };
            w.Dims.AddRange(dims);
            b.Graph.Initializer.Add(w);
            b.Node("Add", ["x", "w"], ["y"], "adder");
            Write("huge", $"initializer-{string.Join("x", dims)}", b.Model.ToByteArray());
        }
        foreach (var dim in new long[] { int.MaxValue, 1L << 33, 100_000 })
        {
            var m = Mnist();
            foreach (var d in m.Graph.Input[0].Type.TensorType.Shape.Dim) d.DimValue = dim;
            Write("huge", $"input-all-dims-{dim}", m.ToByteArray());
            var r = new ModelBuilder().Input("x", 1, 4).Output("y", -1, -1);
            var target = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { dim, dim } };
            r.Graph.Initializer.Add(target);
            r.Node("Reshape", ["x", "shape"], ["y"], "reshape");
            Write("huge", $"reshape-to-{dim}x{dim}", r.Model.ToByteArray());
        }

        // Long chains: reversed (topological sort) and closed into a cycle.
        foreach (var (name, cycle) in new[] { ("reversed-20000", false), ("cycle-5000", true) })
        {
            int length = cycle ? 5000 : 20000;
            var b = new ModelBuilder().Input("x", 1, 4).Output($"v{length}", 1, 4);
            var chain = Enumerable.Range(0, length).Select(i => new NodeProto { OpType = "Relu", Name = $"r{i}", Input = { i == 0 ? (cycle ? $"v{length}" : "x") : $"v{i}" }, Output = { $"v{i + 1}" } }).Reverse();
            b.Graph.Node.AddRange(chain);
            Write("chain", name, b.Model.ToByteArray());
        }

        // External data tricks.
        var weights = new float[] { 1, 2, 3, 4 }.SelectMany(BitConverter.GetBytes).ToArray();
        string External(string name, string location, params (string, string)[] extra)
        {
            var b = new ModelBuilder().Input("x", 1, 4).Output("y", 1, 4);
            var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External, Dims = { 1, 4 } };
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            foreach (var (key, value) in extra) w.ExternalData.Add(new StringStringEntryProto { Key = key, Value = value });
            b.Graph.Initializer.Add(w);
            b.Node("Add", ["x", "w"], ["y"], "adder");
            return Path.GetDirectoryName(Write("external", name, b.Model.ToByteArray()))!;
        }
        File.CreateSymbolicLink(Path.Combine(External("link-etc-passwd", "w.bin"), "w.bin"), "/etc/passwd");
        var up = External("link-up", "w.bin");
        File.WriteAllBytes(Path.Combine(up, "..", "outside.bin"), weights);
        File.CreateSymbolicLink(Path.Combine(up, "w.bin"), "../outside.bin");
        Directory.CreateSymbolicLink(Path.Combine(External("folder-link-root", "lnk/etc/passwd"), "lnk"), "/");
        var fifo = Path.Combine(External("fifo", "w.bin"), "w.bin");
        using (var mk = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { UseShellExecute = false })!) mk.WaitForExit();
        Directory.CreateDirectory(Path.Combine(External("folder", "w.bin"), "w.bin"));
        foreach (var (name, key, value) in new[] { ("offset-abc", "offset", "abc"), ("offset-2^63+5", "offset", "9223372036854775813"), ("offset-max", "offset", long.MaxValue.ToString()), ("length-abc", "length", "abc"), ("length-huge", "length", "99999999999") })
            File.WriteAllBytes(Path.Combine(External(name, "w.bin", (key, value)), "w.bin"), weights);
        External("nul", "w\0.bin");
        External("absolute", "/etc/passwd");
        External("dot-dot", "../w.bin");
        External("backslash", "..\\w.bin");
        External("missing", "missing.bin");
        File.WriteAllBytes(Path.Combine(External("short", "w.bin"), "w.bin"), weights[..6]);
        return cases;
    }
}
